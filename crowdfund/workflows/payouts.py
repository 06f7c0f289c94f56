"""A successful campaign's payout: after a delay, minus a reserve that is paid later.

Once every pledge is released (crowdfund/workflows/settlement.py), the firm's net sits in
its payable account. `pay_out` then:

1. the first time, fixes the plan on the settlement: `reserve_amount` = PAYOUT_RESERVE_BPS
   of the net (rounded down: the firm keeps any fraction), `payout_amount` = the rest,
   `payout_due_at` = success + PAYOUT_DELAY, `reserve_due_at` = success + PAYOUT_RESERVE_DAYS
   ("success" is when the closing transaction wrote the settlement). Fixed once, so a
   change of the settings later never changes a plan the statement already showed;
2. sends each part when it is due: the payout (key `settlement-<id>-payout`, ledger
   `settlement:<id>:payout`), then the reserve (key `settlement-<id>-reserve`, ledger
   `settlement:<id>:reserve_payout`), both firm_payable -> clearing, code `payout`. Each is
   booked in the transaction that records its ref, so a crash between the processor's
   answer and our commit is replayed with the same key and booked once. The processor
   keeps its answer under a key, refusals included (Stripe: for 24 hours), so after it
   refused a part, the next try goes under a new key (`settlement-<id>-payout-2`, ...;
   `payout_refusals` counts them): a refusal moved no money, so a new key cannot pay twice.
   A lost answer (a transient error) is always retried under the same key.

Until a part is due, the settlement is `waiting_for_payout` with `due_at`: that is not an
error, and `flask settlement resume` (and the hourly `resume_settlements` job) run it again
once `due_at` has passed. A part goes only to a verified payout account; without one the
settlement stays `paying_out` and its people are told (services/payout_accounts.py).

The processor answering `balance_insufficient` (Stripe does while the campaign's card
funds are still pending) is a wait too: `waiting_for_payout` again, `due_at` backed off by
PAYOUT_BALANCE_RETRY seconds doubling with each try (at most a day), `last_error` saying
why for /admin/settlements, never parked. Other permanent errors, or transient ones past
SETTLEMENT_MAX_ATTEMPTS, make it `needs_attention` for an admin's retry.

Stripe: each part is one Transfer to the firm's connected account in the campaign's
`transfer_group`. It is not tied to a charge with `source_transaction`: that takes a single
charge and at most its amount, so a campaign of many backers would need a transfer per
charge, each a call, a key, a ledger row and a reconciliation line of its own; PAYOUT_DELAY
(14 days in production) outlasts card funds' pending period, and a short balance waits.
"""

import logging
import time
from datetime import timedelta
from typing import NamedTuple

from flask import current_app
from sqlalchemy import case, func, or_, select, update

from .. import after_commit, ledger
from ..domain.clock import utcnow
from ..extensions import db
from ..models import LedgerTransfer, Pledge, Project, Settlement
from ..models.pledge import PledgeStatus as PS
from ..models.settlement import SettlementStatus as SS
from ..payments import GatewayError, get_gateway
from ..payments.base import BALANCE_INSUFFICIENT
from ..services import (
    dispute_firm_account,  # chargebacks: what a payout keeps back, and takes back after
    notifications,
    payout_accounts,
    settlement_notices,
)
from . import dispute_events

log = logging.getLogger(__name__)

WAITING = SS.WAITING_FOR_PAYOUT.value
LONGEST_BALANCE_WAIT = 24 * 3600  # seconds: a short balance is looked at again at least daily


def payout_key(settlement_id, refusals=0):
    """The key of the payout's try after `refusals` refused ones."""
    key = f"settlement-{settlement_id}-payout"
    return f"{key}-{refusals + 1}" if refusals else key


def payout_transfer_id(settlement_id):
    return f"settlement:{settlement_id}:payout"


def reserve_key(settlement_id, refusals=0):
    key = f"settlement-{settlement_id}-reserve"
    return f"{key}-{refusals + 1}" if refusals else key


def reserve_transfer_id(settlement_id):
    return f"settlement:{settlement_id}:reserve_payout"


class Part(NamedTuple):
    """One payout of a settlement: the main one, or the reserve."""

    name: str  # "payout" | "reserve"
    amount: int
    due_at: object
    key: str
    transfer_id: str


def _config(key):
    return current_app.config[key]


def backoff(attempt):
    """Seconds before the next try after `attempt` transient failures of a refund or payout."""
    return _config("SETTLEMENT_RETRY_BASE") * (2 ** (attempt - 1))


def pay_out(settlement_id, project_id, *, wait_for_retries=True, now=None):
    """Send whatever part of the payout is due (see module docstring). Returns the status."""
    settlement = db.session.get(Settlement, settlement_id)
    if settlement.status == SS.COMPLETED:
        db.session.commit()
        return settlement.status
    still_held = db.session.scalar(
        select(func.count()).select_from(Pledge).where(Pledge.project_id == project_id, Pledge.status == PS.HELD.value)
    )
    if still_held:  # another worker is still releasing a batch; it will pay out when done
        db.session.commit()
        return settlement.status
    if settlement.payout_due_at is None:
        _plan(settlement)
        db.session.commit()
    while True:
        now_ = now or utcnow()
        settlement = db.session.get(Settlement, settlement_id)
        part = next_part(settlement)
        if part is None:
            db.session.commit()
            return complete(settlement_id)
        status = _send(settlement, part, project_id, now_, wait_for_retries)
        if status is not None:
            return status


def _plan(settlement):
    net = int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerTransfer.amount), 0)).where(
                LedgerTransfer.settlement_id == settlement.id, LedgerTransfer.code == ledger.RELEASE_NET
            )
        )
        or 0
    )
    # not the firm's while disputed
    net -= dispute_firm_account.withheld_from_payout(settlement.id, settlement.project_id)
    reserve = net * _config("PAYOUT_RESERVE_BPS") // 10_000
    succeeded = settlement.created_at
    settlement.payout_amount, settlement.reserve_amount = net - reserve, reserve
    settlement.payout_due_at = succeeded + timedelta(seconds=_config("PAYOUT_DELAY"))
    settlement.reserve_due_at = succeeded + timedelta(days=_config("PAYOUT_RESERVE_DAYS")) if reserve else None


def next_part(settlement):
    """The part of the payout still to send, or None when nothing is left."""
    if settlement.payout_amount and settlement.payout_ref is None:
        return Part(
            "payout",
            settlement.payout_amount,
            settlement.payout_due_at,
            payout_key(settlement.id, settlement.payout_refusals),
            payout_transfer_id(settlement.id),
        )
    if settlement.reserve_amount and settlement.reserve_ref is None:
        # Never before the payout itself: a reserve is what is left of it.
        due = max(settlement.reserve_due_at, settlement.payout_due_at)
        return Part(
            "reserve",
            settlement.reserve_amount,
            due,
            reserve_key(settlement.id, settlement.payout_refusals),
            reserve_transfer_id(settlement.id),
        )
    return None


def _send(settlement, part, project_id, now, wait_for_retries):
    """Send `part` if it is due. Returns the settlement's status to stop at, or None when the
    part went out (look for the next one)."""
    wake = max(part.due_at, settlement.due_at or part.due_at)  # `due_at`: a balance back-off
    if wake > now:
        settlement.status, settlement.due_at = WAITING, wake
        db.session.commit()
        return WAITING
    project = db.session.get(Project, project_id)
    # Only the firm's current account, and only once the processor has verified it.
    destination = payout_accounts.verified_destination(project.firm_id)
    settlement.status = SS.PAYING_OUT.value
    if destination is None:  # wait, told once; a verified account restarts it
        payout_accounts.payout_waits(settlement, project)
        db.session.commit()
        after_commit.run_mail()
        return settlement.status
    part = _within_what_is_owed(settlement, part, project)
    if not part.amount:  # chargebacks took all of it: nothing to send
        db.session.commit()
        return None
    # Read before the commit: nothing may start a transaction of ours while the processor
    # writes (on SQLite a read snapshot taken before its write could not write after it).
    settlement_id, firm_id, currency, gateway = settlement.id, project.firm_id, project.currency, get_gateway()
    db.session.commit()
    for attempt in range(1, _config("SETTLEMENT_MAX_ATTEMPTS") + 1):
        try:
            movement = gateway.payout(
                amount=part.amount,
                currency=currency,
                destination=destination,
                idempotency_key=part.key,
                transfer_group=f"project-{project_id}",
            )
        except GatewayError as error:
            refusals = _payout_failed(settlement_id, error)
            if error.code == BALANCE_INSUFFICIENT:
                return _wait_for_balance(settlement_id, refusals, now)
            if not error.transient or not wait_for_retries or attempt == _config("SETTLEMENT_MAX_ATTEMPTS"):
                return _needs_attention_if_exhausted(settlement_id, error, attempt)
            time.sleep(backoff(attempt))
            continue
        _book(settlement_id, part, movement.ref, firm_id, currency)
        return None
    return db.session.get(Settlement, settlement_id).status  # pragma: no cover - loop always returns


def _within_what_is_owed(settlement, part, project):
    """`part`, cut to what the firm is still owed for this campaign, when chargebacks booked
    after the plan (from the firm's payable account) took some of it: the reserve absorbs
    them first, being what is left after the payout. Never once a call for it may have been
    made (a replay must send the same amount); the processor would refuse a different one."""
    if settlement.payout_attempts:
        return part
    owed = max(_owed_for(settlement, project), 0)
    if part.amount <= owed:
        return part
    log.warning(
        "settlement %s: the %s is cut from %s to %s, what the firm is still owed",
        settlement.id,
        part.name,
        part.amount,
        owed,
    )
    if part.name == "payout":
        settlement.payout_amount = owed
    else:
        settlement.reserve_amount = owed
    return part._replace(amount=owed)


def _owed_for(settlement, project):
    """The firm's payable account, counting only this campaign's money: its releases, minus its
    payouts, and whatever else moved it for the campaign's pledges (chargebacks, reversals)."""
    payable = ledger.accounts.find_account(ledger.firm_payable_key(project.firm_id, project.currency))
    if payable is None:
        return 0
    ours = or_(
        LedgerTransfer.settlement_id == settlement.id,
        LedgerTransfer.pledge_id.in_(select(Pledge.id).where(Pledge.project_id == project.id)),
    )
    moved = case((LedgerTransfer.credit_account_id == payable.id, LedgerTransfer.amount), else_=-LedgerTransfer.amount)
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(moved), 0)).where(
                ours, or_(LedgerTransfer.credit_account_id == payable.id, LedgerTransfer.debit_account_id == payable.id)
            )
        )
    )


def _book(settlement_id, part, ref, firm_id, currency):
    """The part went out: its ledger transfer, its ref and the firm's mail, in one transaction."""
    ledger.transfer(
        part.transfer_id,
        ledger.firm_payable_key(firm_id, currency),
        ledger.clearing_key(currency),
        part.amount,
        currency,
        ledger.PAYOUT,
        settlement_id=settlement_id,
    )
    settlement = db.session.get(Settlement, settlement_id)
    if part.name == "payout":
        settlement.payout_ref = settlement.payout_ref or ref
        notifications.payout_sent(settlement)
    else:
        settlement.reserve_ref = settlement.reserve_ref or ref
        settlement_notices.reserve_sent(settlement)
    settlement.due_at, settlement.payout_attempts, settlement.last_error = None, 0, None
    settlement.payout_refusals = 0  # the next part starts with its plain key
    db.session.commit()
    log.info("settlement %s: %s of %s %s sent (%s)", settlement_id, part.name, part.amount, currency, ref)
    after_commit.run_mail()
    dispute_events.after_payout(settlement_id)  # a dispute since the plan: take it back from the firm


def _payout_failed(settlement_id, error):
    """Count a failed try and say why on the settlement. Returns the refusals so far.

    A refusal uses its key up (the next try takes a new one), unless the key itself was the
    trouble (`idempotency_conflict`: it was used for another payout, which a new key could
    pay a second time)."""
    refused = not error.transient and error.code != "idempotency_conflict"
    db.session.execute(
        update(Settlement)
        .where(Settlement.id == settlement_id)
        .values(
            payout_attempts=Settlement.payout_attempts + 1,
            last_error=f"{error.code or 'error'}: {error}",
            payout_refusals=Settlement.payout_refusals + (1 if refused else 0),
        )
    )
    db.session.commit()
    log.warning("payout of settlement %s failed: %s", settlement_id, error)
    return db.session.get(Settlement, settlement_id).payout_refusals


def _wait_for_balance(settlement_id, refusals, now):
    """The processor's balance cannot cover it yet: try again later, backing off."""
    wait = min(_config("PAYOUT_BALANCE_RETRY") * 2 ** (max(refusals, 1) - 1), LONGEST_BALANCE_WAIT)
    settlement = db.session.get(Settlement, settlement_id)
    settlement.status, settlement.due_at = WAITING, now + timedelta(seconds=wait)
    db.session.commit()
    log.info(
        "settlement %s: the processor's balance is short; trying again at %s",
        settlement_id,
        settlement.due_at.isoformat(),
    )
    return WAITING


def _needs_attention_if_exhausted(settlement_id, error, attempt):
    settlement = db.session.get(Settlement, settlement_id)
    if not error.transient or attempt >= _config("SETTLEMENT_MAX_ATTEMPTS"):
        settlement.status = SS.NEEDS_ATTENTION.value
    db.session.commit()
    return settlement.status


def complete(settlement_id):
    """The settlement has nothing left to do."""
    settlement = db.session.get(Settlement, settlement_id)
    if settlement.status != SS.COMPLETED:
        settlement.status, settlement.completed_at = SS.COMPLETED.value, utcnow()
        settlement.last_error, settlement.due_at = None, None
    db.session.commit()
    return settlement.status
