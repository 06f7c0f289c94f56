"""Refunds the processor took and later reports failed: booked back, parked, told, retried.

A refund can fail days after the processor accepted it: the backer's bank refuses it (the
card was closed, lost, expired). Stripe then puts the money back in our balance and sends
`refund.failed`. Our books had already sent that money to the backer (escrow -> clearing,
`pledge_refund`; or an earlier retry), so, for the pledge's refund <n> (1 is the first
refund, key `pledge-<id>-refund`; only the latest of a pledge's refunds can be failing):

1. `look_again(event)`: like every webhook, the event only makes us look. The refund is
   retrieved from the processor (`gateway.retrieve_refund`), and only a refund it says is
   failed or canceled is acted on; its idempotency key (Stripe: our `crowdfund_key`
   metadata) names the pledge.
2. `record_failure`, one transaction: ledger `pledge:<id>:refund_failed:<n>` clearing ->
   refunds_owed:<CUR> (the money is back at the processor, owed to the backer: still in
   exactly one place), the pledge parked for an admin with the reason (`parked`,
   `settlement_error`, /admin/settlements), and the backer mailed that we are on it. A
   replayed event (or one about an older refund) does nothing; an event about a refund our
   books have not booked yet is refused as transient, so the processor sends it again later.
3. An admin presses "Retry refund" (`retry_later`, flush only), and after the commit the
   `retry_refund` job sends refund <n+1> under a new key (the processor keeps its answer
   under a key, so the old one would only replay it), booked `pledge:<id>:refund:<n+1>`
   refunds_owed -> clearing. Keys are numbered by tries (`pledge-<id>-refund-2`, -3, ...;
   `settlement_attempts` counts them), not by refunds: a try the processor refuses at once
   uses its key up and is parked again with the error; a lost answer keeps its key. A
   refund that fails later comes back as step 1.

Why an admin retries, and not a back-off: a refund goes back to the card it came from, and
most failures are a card that no longer exists, where the same refund fails again, days
later each time. Someone has to talk to the backer first (and may pay them another way).

Release on delivery: the refund of a released pledge's held remainder (an admin's, key
`pledge-<id>-delivery-refund`, workflows/delivery_release.py) fails the same way, and goes the
same way, for that remainder only (`refunded_part`): booked back to refunds_owed, the pledge
parked with the reason (its delivery stays `refunded`: the money is owed to the backer, not
held for the firm), the backer mailed that amount, retried under `pledge-<id>-delivery-refund-2`...

A refund after the firm was paid cannot happen here: only held pledges are refunded, and a
released pledge only of its held remainder, which never reached the firm's account, so there
is no transfer from the firm's account to reverse.
Pledge changes: a refund a change made (key `pledge-<id>-change-<n>-refund`) goes the same way,
for that refund's amount, in workflows/change_refund_failures.py (`record_failure` sends it
there); its transfers name the change, and `attempts` here leaves them out.
These functions commit their own work, except `retry_later`.
"""

import logging
import re
from dataclasses import dataclass

from sqlalchemy import case, func, select

from .. import after_commit, ledger
from ..errors import Conflict
from ..extensions import db
from ..models import LedgerTransfer, Pledge, PledgeDelivery
from ..models.delivery import DeliveryStatus as DS
from ..models.pledge import PledgeStatus as PS
from ..payments import GatewayError, TransientGatewayError, get_gateway
from ..services import pledges, settlement_notices
from . import change_refund_failures

log = logging.getLogger(__name__)

EVENTS = {"refund.failed", "refund.updated", "charge.refund.updated"}
KEY = re.compile(r"^pledge-(?P<pledge>[1-9][0-9]*)(?:-delivery)?-refund(?:-(?P<try>[2-9]|[1-9][0-9]+))?$")
# A refund was made for pledges in these states (failed: a payment that came after its
# campaign closed, refunded at once).
RETURNED = (PS.REFUNDED.value, PS.CANCELLED.value, PS.FAILED.value)


def refund_key(pledge_id, try_number, first=None):
    """The key of a pledge's refund try: the first is the one every refund flow uses (`first`:
    another flow's, such as a delivery refund's)."""
    first = first or pledges.refund_key(pledge_id)
    return first if try_number == 1 else f"{first}-{try_number}"


@dataclass
class RefundedPart:
    """What a pledge's refunds gave back: its amount, the ref of the latest refund our books
    sent, whether they have booked it, and the key of its first try."""

    amount: int
    ref: str | None
    booked: bool
    first_key: str
    delivery: PledgeDelivery | None


def refunded_part(pledge):
    """All of a returned pledge, or (release on delivery: a released pledge is refunded of
    nothing else) the remainder held for its reward."""
    delivery = db.session.scalar(select(PledgeDelivery).where(PledgeDelivery.pledge_id == pledge.id))
    if delivery is None:
        return RefundedPart(
            pledge.amount, pledge.refund_ref, pledge.status in RETURNED, pledges.refund_key(pledge.id), None
        )
    booked = delivery.status == DS.REFUNDED.value
    return RefundedPart(
        delivery.held_amount, delivery.refund_ref, booked, f"pledge-{pledge.id}-delivery-refund", delivery
    )


# -- 1. the processor says a refund failed --------------------------------------------------------
def look_again(event):
    """Look at the refund a refund event names; book it if the processor says it failed.
    Returns the pledge, or None (another event, not our refund, or not failed)."""
    if event.type not in EVENTS:
        return None
    refund = (event.data or {}).get("object") or {}
    ref = refund.get("id")
    if not isinstance(ref, str) or not ref.startswith("re_"):
        return None
    if refund.get("status") not in (None, "failed", "canceled"):
        return None  # a refund.updated that is not a failure costs no processor call
    try:
        found = get_gateway().retrieve_refund(ref)
    except GatewayError as error:
        if error.transient:
            raise
        db.session.rollback()
        log.warning("Webhook %s: refund %s could not be looked at: %s", event.id, ref, error)
        return None
    if not found.failed:
        return None
    return record_failure(found)


def _pledge_of(refund):
    """(pledge id, try number) of a refund of ours, or (None, None)."""
    match = KEY.match(refund.key or "")
    if match:
        return int(match["pledge"]), int(match["try"] or 1)
    # A refund made by hand at the processor for one of our pledges (or of a held remainder).
    pledge_id = db.session.scalar(select(Pledge.id).where(Pledge.refund_ref == refund.ref))
    if pledge_id is None:
        pledge_id = db.session.scalar(select(PledgeDelivery.pledge_id).where(PledgeDelivery.refund_ref == refund.ref))
    return pledge_id, None


def record_failure(refund):
    """Book the failed `refund` (a RefundResult) back, park its pledge and tell the backer.
    Returns the pledge, or None when the refund is not one of ours."""
    change = change_refund_failures.change_of(refund)
    if change is not None:  # a refund a pledge change made: that refund's amount only
        return change_refund_failures.record(refund, change)
    pledge_id, try_number = _pledge_of(refund)
    if pledge_id is None or db.session.get(Pledge, pledge_id) is None:
        log.warning("refund %s failed, but it is not a refund of ours (key %s)", refund.ref, refund.key)
        return None
    pledge = pledges.lock(pledge_id)
    failed, retried = attempts(pledge_id)
    part = refunded_part(pledge)
    if refund.ref == part.ref or (part.ref is None and try_number == 1):
        booked = part.booked  # the refund our books sent last, if they have it
    elif failed > retried and not pledge.parked and (try_number or 0) > pledge.settlement_attempts:
        booked = False  # a retry the processor answered, whose booking has not committed yet
    else:  # an older refund of the pledge: its failure was booked when it came
        db.session.commit()
        return pledge
    if not booked:
        db.session.rollback()
        # Our side of that refund has not committed yet (between the processor's answer and
        # its booking): the processor sends the event again, and it finds it then.
        raise TransientGatewayError(f"Refund {refund.ref} of pledge {pledge_id} is not in our books yet.")
    if failed > retried:  # this failure is booked already: a replayed event
        db.session.commit()
        return pledge
    number, currency = failed + 1, pledge.currency
    ledger.transfer(
        ledger.refund_failed_id(pledge_id, number),
        ledger.clearing_key(currency),
        ledger.refunds_owed_key(currency),
        part.amount,
        currency,
        ledger.REFUND_FAILED,
        pledge_id=pledge_id,
    )
    pledge.parked, pledge.settle_after = True, None
    pledge.settlement_attempts = max(pledge.settlement_attempts if failed else 0, try_number or 1)
    pledge.settlement_error = f"refund_failed: {refund.failure_reason or refund.status} ({refund.ref})"
    settlement_notices.refund_failed(pledge, number, amount=part.amount)
    db.session.commit()
    log.warning(
        "refund %s of pledge %s failed: %s; parked for an admin",
        refund.ref,
        pledge_id,
        refund.failure_reason or refund.status,
    )
    after_commit.run_mail()
    return pledge


def attempts(pledge_id):
    """(failed, retried) refund attempts of a pledge, from the ledger."""
    row = db.session.execute(
        select(
            func.coalesce(func.sum(case((LedgerTransfer.code == ledger.REFUND_FAILED, 1), else_=0)), 0),
            func.coalesce(func.sum(case((LedgerTransfer.code == ledger.REFUND_RETRY, 1), else_=0)), 0),
        ).where(LedgerTransfer.pledge_id == pledge_id, LedgerTransfer.id.not_like(ledger.CHANGE_TRANSFER_IDS))
    ).one()
    return int(row[0]), int(row[1])


# -- 2. an admin retries ------------------------------------------------------------------------
def retry_later(pledge, *, admin):
    """An admin sends a failed refund back to the queue. Flushes; it runs after the commit."""
    failed, retried = attempts(pledge.id)
    if failed <= retried:
        raise Conflict("That pledge's refund is not waiting for an admin.")
    pledge.parked, pledge.settle_after = False, None
    after_commit.retry_refund(pledge.id)  # a `retry_refund` job, once the caller commits
    log.info("admin %s retries the failed refund of pledge %s", getattr(admin, "id", admin), pledge.id)
    db.session.flush()
    return pledge


def waiting_for_retry():
    """Pledges owed a refund that no admin holds back: retried by `flask settlement resume`."""
    owed = (
        select(LedgerTransfer.pledge_id)
        .where(
            LedgerTransfer.code.in_((ledger.REFUND_FAILED, ledger.REFUND_RETRY)),
            LedgerTransfer.id.not_like(ledger.CHANGE_TRANSFER_IDS),
        )
        .group_by(LedgerTransfer.pledge_id)
        .having(func.sum(case((LedgerTransfer.code == ledger.REFUND_FAILED, 1), else_=-1)) > 0)
    )
    ids = db.session.scalars(
        select(Pledge.id).where(Pledge.id.in_(owed), Pledge.parked.is_(False)).order_by(Pledge.id)
    ).all()
    db.session.commit()
    return ids


def retry(pledge_id):
    """Refund again what a failed refund gave back (the `retry_refund` job). Returns
    "refunded", "parked", "waiting" (a transient error: `flask settlement resume` tries
    again) or "nothing" (not owed, or held back by an admin)."""
    pledge = pledges.lock(pledge_id)
    failed, retried = attempts(pledge_id)
    if failed <= retried or pledge.parked:
        db.session.commit()
        if failed <= retried:  # an admin may have sent back a refused refund of a change instead
            return change_refund_failures.retry_pledge(pledge_id)
        return "nothing"
    # Refund <retried + 2> (1 was the first), under the key of the next try.
    number, try_number = retried + 2, pledge.settlement_attempts + 1
    part = refunded_part(pledge)
    charge_ref, amount, currency, first_key = pledge.charge_ref, part.amount, pledge.currency, part.first_key
    db.session.commit()
    try:  # no transaction is open while the processor works
        movement = get_gateway().refund(
            charge_ref=charge_ref,
            amount=amount,
            currency=currency,
            idempotency_key=refund_key(pledge_id, try_number, first_key),
        )
    except GatewayError as error:
        pledge = pledges.lock(pledge_id)
        pledge.parked = not error.transient
        if pledge.parked and error.code != "idempotency_conflict":
            pledge.settlement_attempts = try_number  # refused: that key is used up
        pledge.settlement_error = f"{error.code or 'error'}: {error}"
        db.session.commit()
        log.warning("refund %s of pledge %s (try %s) failed: %s", number, pledge_id, try_number, error)
        return "parked" if pledge.parked else "waiting"
    pledge = pledges.lock(pledge_id)
    ledger.transfer(
        ledger.refund_retry_id(pledge_id, number),
        ledger.refunds_owed_key(currency),
        ledger.clearing_key(currency),
        amount,
        currency,
        ledger.REFUND_RETRY,
        pledge_id=pledge_id,
    )
    pledge.settlement_error, pledge.settlement_attempts = None, try_number
    part = refunded_part(pledge)
    if part.delivery is not None:  # a released pledge: only its held remainder was refunded
        part.delivery.refund_ref = movement.ref
    else:
        pledge.refund_ref = movement.ref
    db.session.commit()
    log.info("refund %s of pledge %s sent (try %s, %s)", number, pledge_id, try_number, movement.ref)
    return "refunded"
