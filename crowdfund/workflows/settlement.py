"""Settlement: when a campaign ends, every held pledge is released to the firm or returned.

`settlement_hooks.open_settlement` runs inside the transaction that ends the campaign: it
writes a `Settlement` row and asks for this settlement once that transaction commits
(crowdfund/after_commit.py). The work itself is `settle(project_id)`, a background job that
works through the held pledges in batches:

- **release** (the campaign succeeded; `settlement_release.py`): one transaction per batch
  moves each pledge's money from escrow to the firm's payable account (net) and the
  platform's fees (fee, see `domain.fees`), marks the pledges `released` and, for equity,
  writes the share register. No payment call is involved, so the batch is all-or-nothing.
  When no pledge is left held, the firm is paid (`payouts.pay_out`: after PAYOUT_DELAY,
  minus a reserve paid later).
- **refund** (failed, cancelled or suspended; `settlement_refunds.py`): a gateway call
  cannot sit inside a transaction, so each batch is (1) claimed in a short committed
  transaction (`settle_after` set to a lease; `FOR UPDATE SKIP LOCKED` on PostgreSQL so two
  workers take different pledges), (2) refunded through the gateway with no transaction
  open (key `pledge-<id>-refund`, the same key a backer's own cancellation uses, so a pledge
  can never be refunded twice), (3) booked in one transaction: ledger `pledge:<id>:refund`,
  pledge -> `refunded`. A transient gateway error sets a back-off in `settle_after`; after
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

from sqlalchemy import or_, select, update

from .. import after_commit
from ..domain.clock import utcnow
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Pledge, Settlement
from ..models.pledge import PledgeStatus as PS
from ..models.settlement import SettlementStatus as SS
from ..services.settlement_hooks import RELEASE
from . import payouts, refund_failures
from .settlement_refunds import _finish_refunds, _refund_batch, _seconds_until_next_retry
from .settlement_release import _config, _release_batch

log = logging.getLogger(__name__)

# Statuses a resume runs again at once; `payouts.WAITING` waits for its `due_at`.
UNFINISHED = (SS.PENDING.value, SS.RUNNING.value, SS.PAYING_OUT.value)


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
