"""Settlement: when a campaign ends, every held pledge is released to the firm or returned.

`settlement_hooks.open_settlement` runs inside the transaction that ends the campaign: it
writes a `Settlement` row and asks for this settlement once that transaction commits
(crowdfund/after_commit.py). The work itself is `settle(project_id)`, a background job that
works through the held pledges in batches:

- **release** (the campaign succeeded): one transaction per batch moves each pledge's money
  from escrow to the firm's payable account (net) and the platform's fees (fee, see
  `domain.fees`), marks the pledges `released` and, for equity, writes the share register.
  No payment call is involved, so the batch is all-or-nothing. When no pledge is left held,
  the firm is paid (`payouts.pay_out`: after PAYOUT_DELAY, minus a reserve paid later).
- **refund** (failed, cancelled or suspended): a gateway call cannot sit inside a
  transaction, so each batch is (1) claimed in a short committed transaction (`settle_after`
  set to a lease; `FOR UPDATE SKIP LOCKED` on PostgreSQL so two workers take different
  pledges), (2) refunded through the gateway with no transaction open (key
  `pledge-<id>-refund`, the same key a backer's own cancellation uses, so a pledge can never
  be refunded twice), (3) booked in one transaction: ledger `pledge:<id>:refund`, pledge ->
  `refunded`. A transient gateway error sets a back-off in `settle_after`; after
  `SETTLEMENT_MAX_ATTEMPTS`, or at once for a permanent error, the pledge is parked with its
  error for an admin (`retry_parked`). A refund the processor reports failed later is
  `refund_failures`' to follow up.

Killed at any point, `settle` can simply run again: a claim expires, a refund or payout
replayed with its key returns the first result, ledger transfers are idempotent by id, and
every status change is guarded by the status it expects. Memory stays flat: only one batch
of pledges is loaded at a time. These functions commit their own work (they are jobs).
"""

import logging
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, func, insert, or_, select, text, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import after_commit, ledger
from ..database import one_of
from ..domain.clock import utcnow
from ..domain.fees import split_fee
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import LedgerTransfer, Pledge, Project, Settlement, ShareHolding
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectKind
from ..models.settlement import SettlementStatus as SS
from ..payments import RefundRequest, get_gateway
from ..services import notifications, transitions
from ..services.pledges import refund_key
from ..services.settlement_hooks import RELEASE
from . import payouts, refund_failures

log = logging.getLogger(__name__)

# Statuses a resume runs again at once; `payouts.WAITING` waits for its `due_at`.
UNFINISHED = (SS.PENDING.value, SS.RUNNING.value, SS.PAYING_OUT.value)


def _config(key):
    return current_app.config[key]


def _postgres():
    return db.session.get_bind().dialect.name == "postgresql"


def settle(project_id, *, batch_size=None, wait_for_retries=True, now=None):
    """Work off the settlement of `project_id` as far as it can go. Returns its status.

    Safe to run again at any time and in several workers at once (see module docstring).
    With `wait_for_retries`, it sleeps through retry back-offs instead of returning early
    (never through a payout's delay, reserve or balance back-off: those are hours or days).
    `now`: the moment the payout's dates are compared with (the clock when None).
    """
    batch_size = batch_size or _config("SETTLEMENT_BATCH_SIZE")
    settlement = db.session.scalar(select(Settlement).where(Settlement.project_id == project_id))
    if settlement is None:
        raise NotFound(f"Project {project_id} has no settlement.")
    settlement_id, outcome = settlement.id, settlement.outcome
    if settlement.status == SS.PENDING:
        db.session.execute(
            update(Settlement)
            .where(Settlement.id == settlement_id, Settlement.status == SS.PENDING.value)
            .values(status=SS.RUNNING.value)
        )
    db.session.commit()

    if outcome == RELEASE:
        while _release_batch(settlement_id, project_id, batch_size):
            pass
        return payouts.pay_out(settlement_id, project_id, wait_for_retries=wait_for_retries, now=now)
    while True:
        while _refund_batch(settlement_id, project_id, batch_size):
            pass
        wait = _seconds_until_next_retry(project_id) if wait_for_retries else None
        if wait is None:
            break
        time.sleep(wait)
    return _finish_refunds(settlement_id, project_id)


def due_for_a_run(now=None):
    """Project ids of the settlements a resume should run: unfinished ones, and those waiting
    for a payout whose moment has come."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(Settlement.project_id)
        .where(
            or_(Settlement.status.in_(UNFINISHED), (Settlement.status == payouts.WAITING) & (Settlement.due_at <= now))
        )
        .order_by(Settlement.id)
    ).all()
    db.session.commit()
    return ids


# -- release ------------------------------------------------------------------------------------
def _release_batch(settlement_id, project_id, size):
    """Release one batch of held pledges in one transaction. Returns how many it released."""
    project = db.session.get(Project, project_id)
    query = (
        select(Pledge)
        .where(Pledge.project_id == project_id, Pledge.status == PS.HELD.value)
        .order_by(Pledge.id)
        .limit(size)
    )
    if _postgres():
        query = query.with_for_update(skip_locked=True, of=Pledge)
    pledges = db.session.scalars(query).all()
    if not pledges:
        db.session.commit()
        return 0
    bps, now = _config("PLATFORM_FEE_BPS"), utcnow()
    escrow = ledger.escrow_key(project_id)
    payable = ledger.firm_payable_key(project.firm_id, project.currency)
    fees = ledger.platform_fees_key(project.currency)
    processor_fees = ledger.processor_fees_key(project.currency)
    borne = _processor_fees_of(pledges) if _config("PROCESSOR_FEES_PAID_BY") == "firm" else {}
    transfers = []
    for pledge in pledges:
        net, fee = split_fee(pledge.amount, bps)
        kept = min(borne.get(pledge.id, 0), net)  # the firm bears what the processor kept
        net -= kept
        if net:
            transfers.append(
                ledger.Transfer(
                    ledger.release_net_id(pledge.id),
                    escrow,
                    payable,
                    net,
                    pledge.currency,
                    ledger.RELEASE_NET,
                    pledge.id,
                    settlement_id,
                )
            )
        if fee:
            transfers.append(
                ledger.Transfer(
                    ledger.release_fee_id(pledge.id),
                    escrow,
                    fees,
                    fee,
                    pledge.currency,
                    ledger.RELEASE_FEE,
                    pledge.id,
                    settlement_id,
                )
            )
        if kept:
            transfers.append(
                ledger.Transfer(
                    ledger.release_processor_fee_id(pledge.id),
                    escrow,
                    processor_fees,
                    kept,
                    pledge.currency,
                    ledger.RELEASE_PROCESSOR_FEE,
                    pledge.id,
                    settlement_id,
                )
            )
    ledger.transfer_many(transfers)
    ids = [p.id for p in pledges]
    db.session.execute(
        update(Pledge)
        .where(one_of(Pledge.id, ids), Pledge.status == PS.HELD.value)
        .values(status=PS.RELEASED.value, ended_at=now, settle_after=None)
        .execution_options(synchronize_session=False)
    )
    transitions.record_many(
        "pledge",
        ids,
        PS.HELD.value,
        PS.RELEASED.value,
        note=f"Campaign succeeded: released by settlement {settlement_id}.",
    )
    if project.kind == ProjectKind.EQUITY.value:
        _register_shares(project, pledges, now)
    for pledge in pledges:  # what the notification reads; the UPDATE above already wrote it
        set_committed_value(pledge, "status", PS.RELEASED.value)
    notifications.campaign_succeeded(project, pledges=pledges)
    db.session.commit()
    log.info("settlement %s: released %d pledge(s) of project %s", settlement_id, len(pledges), project_id)
    after_commit.run_mail()  # this batch's mail goes now; the settlement goes on
    return len(pledges)


def _processor_fees_of(pledges):
    """{pledge id: what the processor kept of its charge} for a batch."""
    return dict(
        db.session.execute(
            select(LedgerTransfer.pledge_id, LedgerTransfer.amount).where(
                LedgerTransfer.code == ledger.PROCESSOR_FEE, one_of(LedgerTransfer.pledge_id, [p.id for p in pledges])
            )
        ).all()
    )


def _register_shares(project, pledges, now):
    offering = project.equity
    db.session.execute(
        insert(ShareHolding),
        [
            {
                "user_id": p.backer_id,
                "firm_id": project.firm_id,
                "project_id": project.id,
                "pledge_id": p.id,
                "shares": p.shares,
                "price_per_share": offering.price_per_share,
                "currency": p.currency,
                "security_type": offering.security_type,
                "acquired_at": now,
            }
            for p in pledges
        ],
    )


# -- refund -------------------------------------------------------------------------------------
def _claim_refunds(project_id, size, now):
    """Step 1: claim a batch for this worker (a lease in `settle_after`), committed.

    One statement: UPDATE ... WHERE id IN (the next `size` claimable pledges, FOR UPDATE
    SKIP LOCKED on PostgreSQL) RETURNING what the refund needs.
    """
    pledges = Pledge.__table__
    claimable = (
        select(pledges.c.id)
        .where(
            pledges.c.project_id == project_id,
            pledges.c.status == PS.HELD.value,
            pledges.c.parked.is_(False),
            (pledges.c.settle_after.is_(None)) | (pledges.c.settle_after <= now),
        )
        .order_by(pledges.c.id)
        .limit(size)
    )
    if _postgres():
        claimable = claimable.with_for_update(skip_locked=True)
    lease = now + timedelta(seconds=_config("SETTLEMENT_CLAIM_SECONDS"))
    claimed = db.session.execute(
        update(pledges)
        .where(pledges.c.id.in_(claimable))
        .values(settle_after=lease)
        .returning(
            pledges.c.id, pledges.c.charge_ref, pledges.c.amount, pledges.c.currency, pledges.c.settlement_attempts
        )
    ).all()
    db.session.commit()
    return sorted(claimed, key=lambda row: row.id)


def _refund_batch(settlement_id, project_id, size):
    now = utcnow()
    claimed = _claim_refunds(project_id, size, now)
    if not claimed:
        return 0
    # Step 2: no transaction is open while the gateway works.
    results = get_gateway().refund_many(
        [
            RefundRequest(
                charge_ref=row.charge_ref, amount=row.amount, currency=row.currency, idempotency_key=refund_key(row.id)
            )
            for row in claimed
        ]
    )
    # Step 3: book what happened, in one transaction.
    done = {row.id: result for row, result in zip(claimed, results, strict=True) if not isinstance(result, Exception)}
    failed = [(row, result) for row, result in zip(claimed, results, strict=True) if isinstance(result, Exception)]
    _book_refunds(settlement_id, project_id, done)
    _record_failures(failed)
    db.session.commit()
    after_commit.run_mail()  # this batch's mail goes now; the settlement goes on
    return len(claimed)


def _book_refunds(settlement_id, project_id, done):
    if not done:
        return
    # Only pledges still held are booked: a backer's own cancellation may have won.
    refunded = _mark_refunded(done, utcnow())
    if not refunded:
        return
    escrow = ledger.escrow_key(project_id)
    ledger.transfer_many(
        [
            ledger.Transfer(
                ledger.refund_id(p.id),
                escrow,
                ledger.clearing_key(p.currency),
                p.amount,
                p.currency,
                ledger.PLEDGE_REFUND,
                p.id,
                settlement_id,
            )
            for p in refunded
        ]
    )
    project = db.session.get(Project, project_id)
    transitions.record_many(
        "pledge",
        [p.id for p in refunded],
        PS.HELD.value,
        PS.REFUNDED.value,
        note=f"Campaign {project.status}: refunded by settlement {settlement_id}.",
    )
    notifications.campaign_failed_refunded_many(refunded)
    log.info("settlement %s: refunded %d pledge(s) of project %s", settlement_id, len(refunded), project_id)


def _mark_refunded(done, now):
    """held -> refunded for the pledges of `done` ({id: MoneyMovement}) that are still held.

    Returns those pledges (id, project_id, backer_id, amount, currency), in id order.
    """
    ids = sorted(done)
    values = {"status": PS.REFUNDED.value, "now": now, "held": PS.HELD.value}
    if _postgres():
        # One statement for the batch: it locks the rows, skips any no longer held (re-checked
        # once a concurrent cancellation's lock is released), updates the rest and returns
        # what the booking needs. It replaces a SELECT ... FOR UPDATE of whole Pledge objects.
        rows = db.session.execute(
            text(
                "UPDATE pledges SET status = :status, refund_ref = data.ref, ended_at = :now, settle_after = NULL, "
                "settlement_error = NULL FROM unnest(CAST(:ids AS BIGINT[]), CAST(:refs AS VARCHAR[])) "
                "AS data(id, ref) WHERE pledges.id = data.id AND pledges.status = :held "
                "RETURNING pledges.id, pledges.project_id, pledges.backer_id, pledges.amount, pledges.currency"
            ),
            dict(values, ids=ids, refs=[done[i].ref for i in ids]),
        ).all()
        return sorted(rows, key=lambda row: row.id)
    pledges = Pledge.__table__
    rows = db.session.execute(
        select(pledges.c.id, pledges.c.project_id, pledges.c.backer_id, pledges.c.amount, pledges.c.currency)
        .where(one_of(pledges.c.id, ids), pledges.c.status == PS.HELD.value)
        .order_by(pledges.c.id)
    ).all()
    if rows:
        db.session.execute(
            update(pledges)
            .where(pledges.c.id == bindparam("pid"), pledges.c.status == PS.HELD.value)
            .values(
                status=PS.REFUNDED.value,
                refund_ref=bindparam("ref"),
                ended_at=now,
                settle_after=None,
                settlement_error=None,
            ),
            [{"pid": row.id, "ref": done[row.id].ref} for row in rows],
        )
    return rows


def _record_failures(failed):
    if not failed:
        return
    now, limit = utcnow(), _config("SETTLEMENT_MAX_ATTEMPTS")
    rows = []
    for row, error in failed:
        attempts = row.settlement_attempts + 1
        parked = not getattr(error, "transient", False) or attempts >= limit
        rows.append(
            {
                "pid": row.id,
                "attempts": attempts,
                "parked": parked,
                "error": f"{getattr(error, 'code', None) or type(error).__name__}: {error}",
                "after": None if parked else now + timedelta(seconds=payouts.backoff(attempts)),
            }
        )
        log.warning(
            "refund of pledge %s failed (attempt %s%s): %s", row.id, attempts, ", parked" if parked else "", error
        )
    db.session.execute(
        update(Pledge.__table__)
        .where(Pledge.__table__.c.id == bindparam("pid"))
        .values(
            settlement_attempts=bindparam("attempts"),
            parked=bindparam("parked"),
            settlement_error=bindparam("error"),
            settle_after=bindparam("after"),
        ),
        rows,
    )


def _seconds_until_next_retry(project_id):
    """Seconds until a backed-off pledge may be retried, or None if none waits.

    Pledges another worker has claimed also carry a future `settle_after` (their lease);
    those are that worker's to finish, so only back-offs (never longer than the longest
    back-off) are waited for here.
    """
    now = utcnow()
    horizon = now + timedelta(seconds=payouts.backoff(_config("SETTLEMENT_MAX_ATTEMPTS")))
    soonest = db.session.scalar(
        select(func.min(Pledge.settle_after)).where(
            Pledge.project_id == project_id,
            Pledge.status == PS.HELD.value,
            Pledge.parked.is_(False),
            Pledge.settlement_attempts > 0,
            Pledge.settle_after <= horizon,
        )
    )
    db.session.commit()
    if soonest is None:
        return None
    return max((soonest - now).total_seconds(), 0) + 0.01


def _finish_refunds(settlement_id, project_id):
    parked = db.session.scalar(
        select(func.count())
        .select_from(Pledge)
        .where(Pledge.project_id == project_id, Pledge.status == PS.HELD.value, Pledge.parked.is_(True))
    )
    waiting = db.session.scalar(
        select(func.count())
        .select_from(Pledge)
        .where(Pledge.project_id == project_id, Pledge.status == PS.HELD.value, Pledge.parked.is_(False))
    )
    settlement = db.session.get(Settlement, settlement_id)
    if parked:
        settlement.status = SS.NEEDS_ATTENTION.value
        settlement.last_error = f"{parked} refund(s) parked for an admin."
    elif not waiting:
        db.session.commit()
        return payouts.complete(settlement_id)
    db.session.commit()
    return settlement.status


# -- an admin's retries (flush only: the caller commits, and the work starts after it) ---------
def retry_parked(pledge_id, *, admin):
    """An admin sends a parked refund back to the queue: a held pledge's settlement refund, or
    a refund that failed after it was made (`refund_failures`)."""
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is not None and pledge.parked and pledge.status != PS.HELD.value:
        return refund_failures.retry_later(pledge, admin=admin)
    if pledge is None or not pledge.parked or pledge.status != PS.HELD.value:
        raise Conflict("That pledge is not waiting for an admin.")
    pledge.parked, pledge.settlement_attempts, pledge.settle_after = False, 0, None
    settlement = db.session.scalar(select(Settlement).where(Settlement.project_id == pledge.project_id))
    if settlement is not None and settlement.status == SS.NEEDS_ATTENTION:
        settlement.status = SS.RUNNING.value
    after_commit.start_settlement(pledge.project_id)
    log.info("admin %s retries the parked refund of pledge %s", getattr(admin, "id", admin), pledge_id)
    db.session.flush()
    return pledge


def retry_payout(settlement_id, *, admin):
    """An admin retries a payout that needed attention."""
    settlement = db.session.get(Settlement, settlement_id)
    if settlement is None or settlement.outcome != RELEASE or settlement.status != SS.NEEDS_ATTENTION:
        raise Conflict("That settlement is not waiting for a payout retry.")
    settlement.status, settlement.payout_attempts = SS.RUNNING.value, 0
    after_commit.start_settlement(settlement.project_id)
    log.info("admin %s retries the payout of settlement %s", getattr(admin, "id", admin), settlement_id)
    db.session.flush()
    return settlement
