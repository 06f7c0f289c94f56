"""Editing a firm: details that are locked while money is at stake, and requests to change them.

From a firm's first submission for review until every campaign it ran is settled (no
project in review, approved or live, and the settlement of every campaign that went live
completed), who the firm is and where it is paid cannot change at its people's word:
`LOCKED_FIELDS` and the payout account. A change of them becomes a `FirmChangeRequest`
that an admin approves (which applies it) or rejects, with an audit row (`StateChange`,
entity `firm_change`) and mail to the firm's people and the admins. Other fields (address,
website, description) stay editable. Every field that changes, either way, is logged as a
`FirmEdit` (who, old value, new value).

An attempt to change a locked field directly (the JSON API's PATCH) is refused with 409
`firm_locked`, and the refusal is recorded even though the request's own transaction is
rolled back (`keep_refusal`, written by the web's unit of work after it ends).
"""

import logging
from dataclasses import dataclass

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import insert, or_, select

from ..domain.clock import utcnow
from ..domain.registration_numbers import normalise
from ..errors import Conflict, NotFound, PermissionDenied, ValidationError
from ..extensions import db
from ..models import (
    FirmChangeRequest,
    FirmEdit,
    PayoutAccount,
    Project,
    ProjectStatus as S,
    Settlement,
    SettlementStatus,
    StateChange,
)
from ..payments.base import ACCOUNT_VERIFIED
from . import firm_notices, payout_accounts, use_case
from .firms import FIRM_FIELDS, clean, flush_unless_taken, require_member
from .reviews import require_admin

log = logging.getLogger(__name__)

LOCKED_FIELDS = ("legal_name", "country", "registration_number")
FIELD_WORDS = {
    "legal_name": _l("Legal name"),
    "country": _l("Country"),
    "registration_number": _l("Registration number"),
    "payout_account": _l("Payout account"),
    "address": _l("Registered address"),
    "website": _l("Website"),
    "description": _l("What the firm does"),
}
ENTITY = "firm_change"  # StateChange.entity of a request's life
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
# Projects whose money is at stake: from the first submission ...
_OPEN = (S.IN_REVIEW.value, S.APPROVED.value, S.LIVE.value)
# ... until each campaign that went live is settled.
_ENDED = (S.SUCCESSFUL.value, S.FAILED.value, S.CANCELLED.value, S.SUSPENDED.value)
# session.info key: refusals to record once the request ends, committed or not.
REFUSALS_KEY = "crowdfund.refusals"


def is_locked(firm_id):
    open_project = select(Project.id).where(Project.firm_id == firm_id, Project.status.in_(_OPEN)).exists()
    unsettled = (
        select(Project.id)
        .outerjoin(Settlement, Settlement.project_id == Project.id)
        .where(
            Project.firm_id == firm_id,
            Project.status.in_(_ENDED),
            Project.launched_at.is_not(None),
            or_(Settlement.id.is_(None), Settlement.status != SettlementStatus.COMPLETED.value),
        )
        .exists()
    )
    return bool(db.session.scalar(select(or_(open_project, unsettled))))


def locked_message():
    return _(
        "The firm's legal name, country, registration number and payout account cannot be changed "
        "while a campaign is in review, live or not yet settled. Ask for a change instead: an "
        "administrator approves it."
    )


def pending_message():
    return _("A change of this firm's details is already waiting for an administrator.")


@dataclass(frozen=True)
class Updated:
    firm: object
    changed: list  # the fields changed now
    request: FirmChangeRequest | None = None  # locked fields asked for instead


@use_case
def update_firm(user, firm, data, *, locked="refuse"):
    """The firm's people edit it. While it is locked, a change of a locked field is refused
    (409 `firm_locked`, `locked="refuse"`: the API) or becomes a change request for an admin
    (`locked="request"`: the web form); the other fields change either way. Flushes."""
    require_member(user, firm)
    if locked == "refuse":
        # Before validation: a change of a locked field is refused whatever its value.
        asked = [key for key in LOCKED_FIELDS if _normalised(key, data.get(key)) != getattr(firm, key)]
        if asked and is_locked(firm.id):
            raise refusal(user, firm, asked)
    cleaned = clean(data, existing=firm)
    asked = [key for key in LOCKED_FIELDS if cleaned[key] != getattr(firm, key)]
    request = None
    if asked and is_locked(firm.id):
        request = _new_request(user, firm, {key: cleaned[key] for key in asked})
        cleaned.update({key: getattr(firm, key) for key in asked})
    changed = _apply(firm, cleaned, actor=user)
    flush_unless_taken()
    return Updated(firm, changed, request)


def _normalised(key, value):
    """A locked field's value as `clean` would store it (to compare, not to validate)."""
    if key == "registration_number":
        return normalise(value)
    value = (value or "").strip()
    return value.upper() if key == "country" else value


def refusal(user, firm, fields):
    """The Conflict for a direct change of locked `fields`, recorded and logged."""
    log.warning("user %s tried to change locked details of firm %s: %s", user.id, firm.id, ", ".join(fields))
    keep_refusal(firm.id, user.id, f"firm_locked: tried to change {', '.join(fields)}")
    message = locked_message()
    return Conflict(message, code="firm_locked", fields={key: message for key in fields})


@use_case
def request_change(user, firm, data, *, payout_account=None):
    """Ask for a change of locked details (`data`: the firm's fields as a form sends them)
    and/or a new payout account (a `proposed` PayoutAccount just opened). Flushes."""
    require_member(user, firm)
    cleaned = clean({**{key: getattr(firm, key) for key in FIRM_FIELDS}, **data}, existing=firm)
    changes = {key: cleaned[key] for key in LOCKED_FIELDS if cleaned[key] != getattr(firm, key)}
    if not changes and payout_account is None:
        message = _("Nothing to change: the details you sent are the firm's details already.")
        raise ValidationError(message, code="nothing_to_change")
    return _new_request(user, firm, changes, payout_account=payout_account)


def _new_request(user, firm, changes, *, payout_account=None):
    if pending_request(firm.id) is not None:
        raise Conflict(pending_message(), code="change_request_pending")
    previous = {key: getattr(firm, key) for key in changes}
    if payout_account is not None:
        current = payout_accounts.current(firm.id)
        previous["payout_account"] = current.processor_ref if current else ""
        changes = {**changes, "payout_account": payout_account.processor_ref}
    request = FirmChangeRequest(
        firm_id=firm.id,
        requested_by_id=user.id,
        changes=changes,
        previous=previous,
        payout_account_id=getattr(payout_account, "id", None),
        status=PENDING,
        reason="",
    )
    db.session.add(request)
    db.session.flush()
    _audit(request, None, PENDING, user, "asked: " + ", ".join(changes))
    firm_notices.change_requested(request, describe(request))
    return request


def _apply(firm, cleaned, *, actor, change_request=None):
    changed = []
    for key in FIRM_FIELDS:
        old, new = getattr(firm, key), cleaned.get(key, getattr(firm, key))
        if old != new:
            db.session.add(
                FirmEdit(
                    firm_id=firm.id,
                    user_id=actor.id,
                    field=key,
                    old_value=old or "",
                    new_value=new or "",
                    change_request_id=getattr(change_request, "id", None),
                )
            )
            setattr(firm, key, new)
            changed.append(key)
    return changed


# -- an admin decides ------------------------------------------------------------------------
def _decidable(admin, request_id):
    require_admin(admin)
    request = db.session.scalar(
        select(FirmChangeRequest)
        .where(FirmChangeRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise NotFound(_("There is no such change request."))
    if request.firm.has_member(admin):
        raise PermissionDenied(_("You cannot decide a change of a firm you belong to."))
    if request.status != PENDING:
        raise Conflict(_("This change request was already decided."), code="wrong_state")
    return request


@use_case
def approve(admin, request_id, *, reason=""):
    """Apply the change; a new payout account must be verified by the processor first."""
    request = _decidable(admin, request_id)
    account = request.payout_account
    if account is not None and account.status != ACCOUNT_VERIFIED:
        raise Conflict(
            _(
                "The new payout account is not verified by the payment processor yet, so this "
                "change cannot be approved."
            ),
            code="payout_account_not_ready",
        )
    firm = request.firm
    fields = {key: value for key, value in request.changes.items() if key in LOCKED_FIELDS}
    cleaned = clean({**{key: getattr(firm, key) for key in FIRM_FIELDS}, **fields}, existing=firm)
    _apply(firm, cleaned, actor=admin, change_request=request)
    if account is not None:
        payout_accounts.make_current(account, actor=admin, change_request=request)
    _decide(request, APPROVED, admin, reason)
    flush_unless_taken()
    return request


@use_case
def reject(admin, request_id, *, reason):
    request = _decidable(admin, request_id)
    reason = (reason or "").strip()
    if not reason:
        message = _("Write a note for the firm saying why the change is rejected.")
        raise ValidationError(message, fields={"reason": message})
    if request.payout_account is not None:
        payout_accounts.retire(request.payout_account)
    _decide(request, REJECTED, admin, reason)
    db.session.flush()
    return request


def _decide(request, status, admin, reason):
    request.status, request.decided_by_id, request.decided_at = status, admin.id, utcnow()
    request.reason = (reason or "").strip()
    _audit(request, PENDING, status, admin, request.reason or status)
    db.session.flush()
    firm_notices.change_decided(request, describe(request))


def _audit(request, from_state, to_state, actor, note):
    db.session.add(
        StateChange(
            entity=ENTITY,
            entity_id=request.id,
            from_state=from_state,
            to_state=to_state,
            actor_id=getattr(actor, "id", actor),
            note=note,
        )
    )


# -- reading ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    field: str
    label: str
    old: str
    new: str


def describe(request):
    """The request's changes, each with its label and old and new values."""
    return [
        Change(key, FIELD_WORDS.get(key, key), (request.previous or {}).get(key) or "", value or "")
        for key, value in request.changes.items()
    ]


def pending_request(firm_id):
    return db.session.scalar(
        select(FirmChangeRequest).where(FirmChangeRequest.firm_id == firm_id, FirmChangeRequest.status == PENDING)
    )


def get_request(request_id):
    request = db.session.get(FirmChangeRequest, request_id)
    if request is None:
        raise NotFound(_("There is no such change request."))
    return request


def admin_queue(limit=50):
    """Pending requests, oldest first, then the latest decided ones."""
    pending = db.session.scalars(
        select(FirmChangeRequest).where(FirmChangeRequest.status == PENDING).order_by(FirmChangeRequest.id)
    ).all()
    decided = db.session.scalars(
        select(FirmChangeRequest)
        .where(FirmChangeRequest.status != PENDING)
        .order_by(FirmChangeRequest.decided_at.desc())
        .limit(limit)
    ).all()
    return pending, decided


def proposed_account(request):
    return db.session.get(PayoutAccount, request.payout_account_id) if request.payout_account_id else None


# -- refusals outlive the request's rollback -----------------------------------------------------
def keep_refusal(firm_id, actor_id, note):
    db.session.info.setdefault(REFUSALS_KEY, []).append(
        {
            "entity": "firm",
            "entity_id": firm_id,
            "from_state": None,
            "to_state": "change_refused",
            "actor_id": actor_id,
            "note": note,
            "created_at": utcnow(),
        }
    )


def write_refusals(session):
    """Write the refusals a request kept, in a transaction of their own (the request's may have
    been rolled back: the refusal is why). Flushes only; True if there were any, and the
    caller (the web's unit of work, once the request's transaction has ended) commits."""
    rows = session.info.pop(REFUSALS_KEY, None)
    if rows:
        session.execute(insert(StateChange), rows)
    return bool(rows)
