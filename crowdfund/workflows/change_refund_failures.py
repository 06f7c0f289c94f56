"""Refunds a pledge change made (workflows/pledge_change.py) that the backer's bank refuses later.

A smaller pledge is refunded the difference on its charge, a larger one has its old charge
refunded in full, and an upgrade the campaign closed under has its new charge refunded, each
under the key `pledge-<id>-change-<n>-refund`. When the bank refuses such a refund after the
processor took it, the processor puts the money back in our balance and sends `refund.failed`:
`refund_failures.look_again` / `record_failure` send it here, and it goes the way of every
failed refund, for that refund's amount only:

1. `record`, one transaction: ledger `pledge:<id>:change:<n>:refund_failed:<k>` clearing ->
   refunds_owed (`refund_failed`, as any failed refund: the statements and the reconciliation
   count it as owed), the change marked `refund_failed` with the reason (it is listed for an
   admin, /admin/settlements), and the backer mailed. The pledge itself is not parked: it is
   still held for its new amount and settles as any other. A replayed event does nothing;
   one about a refund our books have not booked yet is refused as transient.
2. An admin presses "Retry refund" (`retry`): the same amount is refunded again on the same
   charge under the next key (`...-change-<n>-refund-2`, -3, ...), booked
   `pledge:<id>:change:<n>:refund:<k>` refunds_owed -> clearing (`refund_retry`), and the
   change is done again. A refusal at once leaves it listed with the error; a later failure
   comes back as step 1.

The transfer ids name the change, so a pledge's own refund failures (`refund_failures.attempts`)
never count these, and the other way round. These functions commit their own work.
"""

import logging
import re

from sqlalchemy import case, func, select

from .. import after_commit, ledger
from ..errors import Conflict
from ..extensions import db
from ..models import LedgerTransfer, Pledge, PledgeChange, PledgeChangeStatus as CS
from ..payments import GatewayError, TransientGatewayError, get_gateway
from ..services import pledge_changes, pledges, settlement_notices
from .pledge_change import refund_key

log = logging.getLogger(__name__)

KEY = re.compile(r"^pledge-(?P<pledge>[1-9][0-9]*)-change-(?P<number>[1-9][0-9]*)-refund(?:-(?P<try>[1-9][0-9]*))?$")


def _prefix(pledge_id, number):
    return f"{ledger.change_id(pledge_id, number)}:"


def change_of(refund):
    """The PledgeChange whose refund `refund` (a RefundResult) is, or None."""
    match = KEY.match(refund.key or "")
    if match:
        return db.session.scalar(
            select(PledgeChange).where(
                PledgeChange.pledge_id == int(match["pledge"]), PledgeChange.number == int(match["number"])
            )
        )
    if not refund.ref:
        return None
    return db.session.scalar(select(PledgeChange).where(PledgeChange.refund_ref == refund.ref))


def _applied(change):
    """Did the change take effect? (An upgrade the campaign closed under did not: no transfer.)"""
    return (
        change.charge_ref is None
        or db.session.get(LedgerTransfer, ledger.change_id(change.pledge_id, change.number)) is not None
    )


def refunded_amount(change):
    """What the change's refund gave back: the difference (smaller), the old charge (a larger
    pledge, applied), or the new charge (a larger pledge the campaign closed under)."""
    if change.charge_ref is None:
        return change.amount_before - change.amount_after
    return change.amount_before if _applied(change) else change.amount_after


def _refunded_charge(change):
    return change.old_charge_ref if _applied(change) else change.charge_ref


def attempts(pledge_id, number):
    """(failed, retried) refunds of one change, from the ledger."""
    row = db.session.execute(
        select(
            func.coalesce(func.sum(case((LedgerTransfer.code == ledger.REFUND_FAILED, 1), else_=0)), 0),
            func.coalesce(func.sum(case((LedgerTransfer.code == ledger.REFUND_RETRY, 1), else_=0)), 0),
        ).where(LedgerTransfer.pledge_id == pledge_id, LedgerTransfer.id.like(f"{_prefix(pledge_id, number)}%"))
    ).one()
    return int(row[0]), int(row[1])


def record(refund, change):
    """Book the change's failed `refund` back, list it for an admin and tell the backer.
    Returns the pledge."""
    pledge_id, number = change.pledge_id, change.number
    pledge = pledges.lock(pledge_id)
    change = pledge_changes.lock_change(change.id)
    if change.refund_ref is None:
        db.session.rollback()
        # Between the processor's answer and its booking: the processor sends the event again.
        raise TransientGatewayError(
            f"Refund {refund.ref} of pledge {pledge_id} change {number} is not in our books yet."
        )
    failed, retried = attempts(pledge_id, number)
    if refund.ref != change.refund_ref or failed > retried:  # an older try, or a replayed event
        db.session.commit()
        return pledge
    amount, currency = refunded_amount(change), pledge.currency
    ledger.transfer(
        ledger.change_refund_failed_id(pledge_id, number, failed + 1),
        ledger.clearing_key(currency),
        ledger.refunds_owed_key(currency),
        amount,
        currency,
        ledger.REFUND_FAILED,
        pledge_id=pledge_id,
    )
    change.status = CS.REFUND_FAILED.value
    change.failure_code = (refund.failure_reason or refund.status or "failed")[:50]
    settlement_notices.refund_failed(pledge, f"change-{number}-{failed + 1}", amount=amount)
    db.session.commit()
    log.warning(
        "refund %s of pledge %s change %s failed: %s; listed for an admin",
        refund.ref,
        pledge_id,
        number,
        change.failure_code,
    )
    after_commit.run_mail()
    return pledge


def waiting(pledge_id=None):
    """Changes whose refund the bank refused and no retry has sent again (the admin's list)."""
    query = select(PledgeChange).where(PledgeChange.status == CS.REFUND_FAILED.value)
    if pledge_id is not None:
        query = query.where(PledgeChange.pledge_id == pledge_id)
    return db.session.scalars(query.order_by(PledgeChange.id)).all()


def retry_later(change_id, *, admin):
    """An admin sends a refused change refund again: the `retry_refund` job of its pledge does
    it once the caller commits (`refund_failures.retry`). Flushes only."""
    change = db.session.get(PledgeChange, change_id)
    if change is None or change.status != CS.REFUND_FAILED.value:
        raise Conflict("That change's refund is not waiting for an admin.")
    after_commit.retry_refund(change.pledge_id)
    log.info(
        "admin %s retries the refund of pledge %s change %s",
        getattr(admin, "id", admin),
        change.pledge_id,
        change.number,
    )
    db.session.flush()
    return change


def retry_pledge(pledge_id):
    """Send again each refused change refund of the pledge. "refunded", "waiting" (a transient
    error), "parked" (refused at once: still listed, with the error) or "nothing"."""
    outcome = "nothing"
    for change_id in [change.id for change in waiting(pledge_id)]:
        db.session.commit()
        try:
            retry(change_id)
        except Conflict:
            continue
        except GatewayError as error:
            outcome = "waiting" if error.transient else "parked"
        else:
            outcome = "refunded" if outcome == "nothing" else outcome
    db.session.commit()
    return outcome


def retry(change_id):
    """Refund a refused change refund again. Returns the change as it now is; Conflict when it is
    not waiting; a GatewayError leaves it waiting, with the error."""
    change = db.session.get(PledgeChange, change_id)
    if change is None:
        raise Conflict("There is no such pledge change.")
    pledge_id, number = change.pledge_id, change.number
    pledges.lock(pledge_id)
    change = pledge_changes.lock_change(change_id)
    failed, retried = attempts(pledge_id, number)
    if change.status != CS.REFUND_FAILED.value or failed <= retried:
        db.session.commit()
        raise Conflict("That change's refund is not waiting for an admin.")
    charge_ref, amount = _refunded_charge(change), refunded_amount(change)
    currency = db.session.get(Pledge, pledge_id).currency
    key = f"{refund_key(pledge_id, number)}-{failed + 1}"  # the failed key would only replay its answer
    db.session.commit()
    try:  # no transaction is open while the processor works
        movement = get_gateway().refund(charge_ref=charge_ref, amount=amount, currency=currency, idempotency_key=key)
    except GatewayError as error:
        change = pledge_changes.lock_change(change_id)
        change.failure_code = f"{error.code or 'error'}: {error}"[:50]
        db.session.commit()
        log.warning("retry of the refund of pledge %s change %s failed: %s", pledge_id, number, error)
        raise
    pledges.lock(pledge_id)
    change = pledge_changes.lock_change(change_id)
    failed, retried = attempts(pledge_id, number)
    if failed > retried:
        ledger.transfer(
            ledger.change_refund_retry_id(pledge_id, number, retried + 1),
            ledger.refunds_owed_key(currency),
            ledger.clearing_key(currency),
            amount,
            currency,
            ledger.REFUND_RETRY,
            pledge_id=pledge_id,
        )
        change.refund_ref = movement.ref
        if _applied(change):
            change.status, change.failure_code = CS.DONE.value, None
        else:  # the upgrade the campaign closed under, as it was
            change.status, change.failure_code = CS.FAILED.value, "project_not_live"
    db.session.commit()
    return change
