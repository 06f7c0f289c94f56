"""A firm's payout account: where released money goes, and what waits for it.

The account is made by the processor's onboarding (crowdfund/workflows/payout_onboarding.py),
never typed. Its `status` is what the processor said the last time it was asked
(`set_status`, the one place it changes, with an audit row); a webhook only makes us ask.
A firm has one `current` account; while its details are locked a replacement is `proposed`
and becomes current only through an admin's approval (services/firm_changes.py). Every
change of the current account is logged as a `FirmEdit` of the field `payout_account`.

What depends on it: a campaign launches only when the account is verified
(`require_ready`); a successful campaign's payout goes only to a verified current account
(`verified_destination`), and waits while there is none (`payout_waits`): it stays
`paying_out`, founders and admins are told once, and it starts again when an account of
the firm becomes verified (`resume_waiting_payouts`, after the commit).
"""

import logging

from flask_babel import gettext as _
from sqlalchemy import select

from .. import after_commit
from ..domain.clock import utcnow
from ..domain.vocabulary import status_in_sentence
from ..errors import Conflict
from ..extensions import db
from ..models import FirmEdit, PayoutAccount, Project, Settlement, SettlementStatus, StateChange
from ..payments.base import ACCOUNT_STATUSES, ACCOUNT_VERIFIED
from . import firm_notices, settlement_hooks

log = logging.getLogger(__name__)

CURRENT, PROPOSED, RETIRED = "current", "proposed", "retired"
ENTITY = "payout_account"  # StateChange.entity of its status changes
# The code a settlement's `last_error` starts with while its payout waits for an account.
WAITING = "payout_account_not_ready"


def current(firm_id):
    return db.session.scalar(
        select(PayoutAccount).where(PayoutAccount.firm_id == firm_id, PayoutAccount.role == CURRENT)
    )


def by_ref(ref):
    return db.session.scalar(select(PayoutAccount).where(PayoutAccount.processor_ref == ref))


def status_of(firm_id):
    """The current account's status, or None when the firm has not set up payouts."""
    return db.session.scalar(
        select(PayoutAccount.status).where(PayoutAccount.firm_id == firm_id, PayoutAccount.role == CURRENT)
    )


def verified_destination(firm_id):
    """The ref to pay the firm at: its current account's, if verified; else None."""
    return db.session.scalar(
        select(PayoutAccount.processor_ref).where(
            PayoutAccount.firm_id == firm_id, PayoutAccount.role == CURRENT, PayoutAccount.status == ACCOUNT_VERIFIED
        )
    )


def require_ready(firm_id):
    """Refuse (409 `payout_account_not_ready`) unless the firm can be paid."""
    if verified_destination(firm_id) is None:
        raise Conflict(not_ready_message(status_of(firm_id)), code=WAITING)


def not_ready_message(status):
    if status is None:
        return _(
            "Set up the firm's payout account before launching: the money raised can only be paid "
            "to an account the payment processor has verified."
        )
    return _(
        "The firm's payout account is %(status)s. A campaign can launch once the payment processor "
        "has verified it: finish setting it up on the firm's page.",
        status=status_in_sentence(status, "payout_account"),
    )


# -- changes ---------------------------------------------------------------------------------------
def set_status(account, status, *, actor=None, note=""):
    """Record what the processor said of `account`. Returns True when it changed (with an
    audit row); becoming verified as the current account restarts waiting payouts."""
    if status not in ACCOUNT_STATUSES:
        raise ValueError(f"{status!r} is not a payout account status")
    if account.status == status:
        return False
    now = utcnow()
    db.session.add(
        StateChange(
            entity=ENTITY,
            entity_id=account.id,
            from_state=account.status,
            to_state=status,
            actor_id=getattr(actor, "id", actor),
            note=note or "as the processor reports it",
        )
    )
    account.status, account.status_changed_at = status, now
    if status == ACCOUNT_VERIFIED:
        account.verified_at = now
        if account.role == CURRENT:
            resume_waiting_payouts(account.firm_id)
    db.session.flush()
    log.info("payout account %s of firm %s is now %s", account.processor_ref, account.firm_id, status)
    return True


def open_account(firm, ref, status, *, processor, role, actor):
    """Record an account the processor just opened for `firm`, as `role` (current or
    proposed). A new current account replaces the old one (retired), logged as a FirmEdit."""
    if role == CURRENT:
        _retire_current(firm.id)
    account = PayoutAccount(
        firm_id=firm.id,
        processor=processor,
        processor_ref=ref,
        status=status,
        role=role,
        verified_at=utcnow() if status == ACCOUNT_VERIFIED else None,
    )
    db.session.add(account)
    db.session.flush()
    db.session.add(
        StateChange(
            entity=ENTITY,
            entity_id=account.id,
            from_state=None,
            to_state=status,
            actor_id=getattr(actor, "id", actor),
            note=f"opened at {processor} as {role}",
        )
    )
    if role == CURRENT:
        _log_destination(firm.id, actor, account)
        if status == ACCOUNT_VERIFIED:
            resume_waiting_payouts(firm.id)
    db.session.flush()
    return account


def make_current(account, *, actor, change_request=None):
    """A proposed account becomes the one payouts go to (an admin's approval)."""
    if account.role == CURRENT:
        return account
    _retire_current(account.firm_id)
    account.role = CURRENT
    db.session.flush()
    _log_destination(account.firm_id, actor, account, change_request=change_request)
    if account.status == ACCOUNT_VERIFIED:
        resume_waiting_payouts(account.firm_id)
    db.session.flush()
    return account


def retire(account):
    """A proposed account that will not be used (its change request was rejected)."""
    if account.role == PROPOSED:
        account.role = RETIRED
        db.session.flush()


def _retire_current(firm_id):
    old = current(firm_id)
    if old is not None:
        old.role = RETIRED
        db.session.flush()  # before the new current row: one current account per firm (unique index)
    return old


def _log_destination(firm_id, actor, account, change_request=None):
    previous = db.session.scalar(
        select(FirmEdit.new_value)
        .where(FirmEdit.firm_id == firm_id, FirmEdit.field == "payout_account")
        .order_by(FirmEdit.id.desc())
        .limit(1)
    )
    db.session.add(
        FirmEdit(
            firm_id=firm_id,
            user_id=getattr(actor, "id", actor),
            field="payout_account",
            old_value=previous or "",
            new_value=account.processor_ref,
            change_request_id=getattr(change_request, "id", None),
        )
    )


# -- settlement waits for it -----------------------------------------------------------------------
def payout_waits(settlement, project):
    """The payout of `settlement` cannot go: say why on it, and tell the firm and the admins
    (once per settlement). Flushes; the settlement stays `paying_out` until `resume_waiting_payouts`."""
    status = status_of(project.firm_id)
    settlement.last_error = f"{WAITING}: the firm's payout account is {status or 'not set up'}; waiting for it"
    firm_notices.payout_waiting(settlement, project, status)
    db.session.flush()


def resume_waiting_payouts(firm_id):
    """After the commit, start again the payouts of `firm_id` that wait for its account."""
    waiting = db.session.scalars(
        select(Settlement.project_id)
        .join(Project, Project.id == Settlement.project_id)
        .where(
            Project.firm_id == firm_id,
            Settlement.outcome == settlement_hooks.RELEASE,
            Settlement.status == SettlementStatus.PAYING_OUT.value,
        )
    ).all()
    for project_id in waiting:
        after_commit.start_settlement(project_id)
    return waiting
