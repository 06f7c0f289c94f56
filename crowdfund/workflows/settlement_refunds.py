"""Settlement, refund: a failed, cancelled or suspended campaign's held pledges, in batches
claimed (committed), refunded through the gateway with no transaction open, then booked;
transient errors back off, and a pledge is parked for an admin after
`SETTLEMENT_MAX_ATTEMPTS`. `settle` (settlement.py) runs the batches; the module docstring
there is the map."""

import logging
from datetime import timedelta

from sqlalchemy import bindparam, func, select, text, update

from .. import after_commit, ledger
from ..database import one_of
from ..domain.clock import utcnow
from ..extensions import db
from ..models import Pledge, Project, Settlement
from ..models.pledge import PledgeStatus as PS
from ..models.settlement import SettlementStatus as SS
from ..payments import RefundRequest, get_gateway
from ..services import notifications, transitions
from ..services.pledges import refund_key
from . import payouts
from .settlement_release import _config, _postgres

log = logging.getLogger(__name__)


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
