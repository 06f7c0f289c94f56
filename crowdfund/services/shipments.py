"""Shipments: a founder records that rewards went out (one pledge, a batch, or a CSV of many).

Each shipped pledge's delivery becomes `shipped` with `confirm_by` (DELIVERY_CONFIRM_DAYS
ahead), and its backer is mailed the carrier and tracking number. Only pledges of the
campaign whose reward is still waiting to ship may be named; anything else refuses the whole
request, naming the field (or the CSV line), and changes nothing. Flush only.
"""

import csv
import io

from flask_babel import gettext as _
from sqlalchemy import select

from ..domain.clock import utcnow
from ..errors import PermissionDenied, ValidationError
from ..extensions import db
from ..models import PledgeDelivery, Shipment
from ..models.delivery import DeliveryStatus as DS
from ..models.project import ProjectStatus
from . import delivery_notices, transitions, use_case
from .deliveries import confirm_deadline

CARRIER_MAX, TRACKING_MAX = 60, 100
MAX_PLEDGES = 1000  # per shipment request
CSV_MAX_ROWS = 5000
CSV_COLUMNS = ("pledge_id", "carrier", "tracking")


def _refuse(field, message):
    raise ValidationError(message, fields={field: message})


def _require_founder(user, project):
    if not (getattr(user, "is_authenticated", False) and project.firm.has_member(user)):
        raise PermissionDenied(_("Only the firm's people can record shipments."))


def printable(text):
    """No control characters (a NUL cannot even be stored on PostgreSQL)."""
    return not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text)


def _one_line(value, field, longest, missing):
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text:
        _refuse(field, missing)
    if not printable(text):
        _refuse(field, _("Remove the control characters (such as tabs or line breaks) from this line."))
    if len(text) > longest:
        _refuse(field, _("Write at most %(num)d characters.", num=longest))
    return text


def _pledge_ids(value):
    if not isinstance(value, list) or not value:
        _refuse("pledge_ids", _("Choose at least one pledge to ship."))
    if len(value) > MAX_PLEDGES:
        _refuse("pledge_ids", _("Ship at most %(num)d pledges at once.", num=MAX_PLEDGES))
    if any(type(i) is not int or not 0 < i < 2**63 for i in value):
        _refuse("pledge_ids", _("Pledge ids are whole numbers."))
    return sorted(set(value))


@use_case
def record_shipment(user, project, pledge_ids, carrier, tracking):
    """One shipment for `pledge_ids` (all of them awaiting shipment in `project`)."""
    _require_founder(user, project)
    if project.status != ProjectStatus.SUCCESSFUL.value or project.release_model != "on_delivery":
        _refuse("pledge_ids", _("Shipments are recorded for successful campaigns released on delivery."))
    ids = _pledge_ids(pledge_ids)
    carrier = _one_line(carrier, "carrier", CARRIER_MAX, _("Name the carrier."))
    tracking = _one_line(tracking, "tracking", TRACKING_MAX, _("Give the tracking number."))
    deliveries = db.session.scalars(
        select(PledgeDelivery)
        .where(PledgeDelivery.project_id == project.id, PledgeDelivery.pledge_id.in_(ids))
        .order_by(PledgeDelivery.pledge_id)
        .with_for_update()
    ).all()
    found = {d.pledge_id: d for d in deliveries}
    unknown = [i for i in ids if i not in found]
    if unknown:
        _refuse(
            "pledge_ids",
            _("These are not pledges of this campaign: %(ids)s.", ids=", ".join(str(i) for i in unknown[:20])),
        )
    moved_on = [d.pledge_id for d in deliveries if d.status != DS.AWAITING_SHIPMENT.value]
    if moved_on:
        _refuse(
            "pledge_ids",
            _("These pledges are not waiting to ship: %(ids)s.", ids=", ".join(str(i) for i in moved_on[:20])),
        )
    now = utcnow()
    shipment = Shipment(
        project_id=project.id, carrier=carrier, tracking=tracking, created_by_id=user.id, created_at=now
    )
    db.session.add(shipment)
    db.session.flush()
    for delivery in deliveries:
        transitions.transition(delivery, DS.SHIPPED.value, actor=user, note=f"Shipment {shipment.id}.")
        delivery.shipment_id, delivery.shipped_at, delivery.confirm_by = shipment.id, now, confirm_deadline(now)
    db.session.flush()
    delivery_notices.shipped(project, shipment, deliveries)
    return shipment


def read_csv(data):
    """[(carrier, tracking, [pledge ids])] from a CSV of pledge_id,carrier,tracking (a header
    line first), grouped by parcel; a bad line refuses the file, naming the line."""
    try:
        text = data.decode("utf-8-sig")
    except (UnicodeDecodeError, AttributeError):
        _refuse("file", _("The file must be a CSV in UTF-8."))
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip().lower() for c in rows[0][:3]] != list(CSV_COLUMNS):
        _refuse("file", _("The first line must be: pledge_id,carrier,tracking"))
    if len(rows) - 1 > CSV_MAX_ROWS:
        _refuse("file", _("A file may ship at most %(num)d pledges.", num=CSV_MAX_ROWS))
    groups = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        number_ok = row and row[0].strip().isascii() and row[0].strip().isdigit() and len(row[0].strip()) < 19
        if len(row) < 3 or not number_ok or not row[1].strip() or not row[2].strip():
            _refuse("file", _("Line %(num)d needs a pledge id, a carrier and a tracking number.", num=number))
        key = (" ".join(row[1].split()), " ".join(row[2].split()))
        groups.setdefault(key, []).append(int(row[0].strip()))
    if not groups:
        _refuse("file", _("The file names no pledges."))
    return [(carrier, tracking, ids) for (carrier, tracking), ids in groups.items()]


@use_case
def record_csv(user, project, data):
    """Every shipment of a CSV upload, all or nothing. Returns the shipments."""
    return [record_shipment(user, project, ids, carrier, tracking) for carrier, tracking, ids in read_csv(data)]
