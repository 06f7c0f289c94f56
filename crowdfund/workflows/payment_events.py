"""The processor's webhooks about payments. They never carry the truth: they say "look again".

A `payment_intent.*` event names a pledge (our `pledge_id` in the payment's metadata). The
payment is then *retrieved* from the processor and what it says is applied by the
checkout's step 3 (`checkout.apply_answer`), under the pledge's lock, so an event that
arrives twice, late, out of order, or at the same moment as the backer's return page
changes nothing more than the first look did. A pledge that has already ended costs no
processor call at all (most events: a plain card's pledge is held before its event comes).

A change's charge (workflows/pledge_change.py: a larger total, its metadata has `change`, its
key is `pledge-<id>-change-<n>`) names the pledge too, but is never the pledge's own charge until
the change applies: it is looked at as the change's (`pledge_change.check_change`), the same way.

Every other event, payment or not, is then recorded once and handed to the logging handlers
(`services.webhooks.receive_event`); an event about a payment our books have already
finished with writes nothing. Commits its own steps.
"""

import logging
import re

from sqlalchemy import bindparam, select

from ..errors import DomainError
from ..extensions import db
from ..models import Pledge, PledgeChange
from ..payments import get_gateway
from ..services import webhooks
from ..services.pledges import OPEN_STATUSES, Attempt
from . import checkout, pledge_change

log = logging.getLogger(__name__)

# Every charge brings an event, so this runs once per pledge: two columns by primary key,
# built once, with no ORM object to load.
_PAYMENT_OF_PLEDGE = select(Pledge.status, Pledge.charge_ref).where(Pledge.id == bindparam("pledge"))
_PAYMENT_OF_CHANGE = select(PledgeChange.id, PledgeChange.status, PledgeChange.charge_ref).where(
    PledgeChange.pledge_id == bindparam("pledge"), PledgeChange.number == bindparam("number")
)
_CHANGE_KEY = re.compile(r"pledge-(\d+)-change-(\d+)")  # workflows/pledge_change.charge_key

PAYMENT_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.requires_action",
    "payment_intent.processing",
}


def receive(event):
    """Act on a verified event, then record it. False (nothing done) for an event seen before,
    or about a payment our books have already finished with.

    Raises TransientGatewayError when the processor cannot be asked: the endpoint answers
    503 and the processor delivers the event again later."""
    change = _change_of(_payment(event)) if event.type in PAYMENT_EVENTS else None
    if change is not None:
        if not _look_at_change(event, *change):
            db.session.rollback()
            return False
    elif event.type in PAYMENT_EVENTS:
        if _already_known(event):
            # The pledge this payment belongs to has ended, and our books already name this
            # payment: nothing to look at, nothing to write. Every charge brings such an event
            # (a card's pledge is held before it comes), so this path writes and commits nothing.
            db.session.rollback()
            return False
        try:
            look_again(event)
        except DomainError:
            # Paid after the campaign closed: the checkout refunded it and failed the pledge.
            db.session.rollback()
    created = webhooks.receive_event(event)
    db.session.commit()
    return created


def _payment(event):
    return (event.data or {}).get("object") or {}


def _change_of(payment):
    """(pledge id, change number) of a change's charge, or None (a pledge's own charge)."""
    metadata = payment.get("metadata") or {}
    matched = _CHANGE_KEY.fullmatch(str(metadata.get("crowdfund_key") or ""))
    if matched:
        return int(matched.group(1)), int(matched.group(2))
    pledge_id, number = _pledge_id(payment), metadata.get("change")
    try:
        return (pledge_id, int(number)) if pledge_id is not None and number is not None else None
    except (TypeError, ValueError):
        return None


def _look_at_change(event, pledge_id, number):
    """Apply what became of a change's payment. False (nothing to write) when the change has
    already finished with this payment."""
    payment = _payment(event)
    row = db.session.execute(_PAYMENT_OF_CHANGE, {"pledge": pledge_id, "number": number}).first()
    if row is None or row.status not in pledge_change.WAITING:
        return row is None or row.charge_ref != payment.get("id")  # ours and finished: nothing to do
    db.session.commit()
    try:
        pledge_change.check_change(row.id, ref=payment.get("id"))
    except DomainError:
        # Paid after the campaign closed: the change's charge was refunded and the change failed.
        db.session.rollback()
    return True


def _already_known(event):
    payment = _payment(event)
    pledge_id = _pledge_id(payment)
    if pledge_id is None:
        return False
    row = db.session.execute(_PAYMENT_OF_PLEDGE, {"pledge": pledge_id}).first()
    return row is not None and row.status not in OPEN_STATUSES and row.charge_ref == payment.get("id")


def look_again(event):
    """Retrieve the payment the event is about and apply it to its pledge, if still open."""
    payment = (event.data or {}).get("object") or {}
    ref, pledge_id = payment.get("id"), _pledge_id(payment)
    pledge = db.session.get(Pledge, pledge_id) if pledge_id else None
    if pledge is None or pledge.status not in OPEN_STATUSES:
        return pledge  # ended already (most events): nothing to ask, nothing to commit yet
    if pledge.charge_ref not in (None, ref):
        log.warning(
            "Webhook %s names payment %s for pledge %s, which is paid by %s; ignored.",
            event.id,
            ref,
            pledge_id,
            pledge.charge_ref,
        )
        db.session.commit()
        return pledge
    if pledge.charge_ref is not None:
        db.session.commit()
        return checkout.check_payment(pledge_id)
    # Our charge call never heard back, but the processor has the payment: ask about it by
    # the reference the event gave. apply_answer checks it is this pledge's amount.
    attempt = Attempt.of(pledge)
    db.session.commit()
    result = get_gateway().retrieve(ref)
    return checkout.apply_answer(attempt, result, actor_id=None, raise_decline=False, charge_ref=ref)


def _pledge_id(payment):
    value = (payment.get("metadata") or {}).get("pledge_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
