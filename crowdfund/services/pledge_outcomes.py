"""Step 3 of a pledge: the processor's answer, applied under the pledge's lock. Each only
flushes; the workflows commit (crowdfund/workflows/checkout.py explains the transactions and
the lock order; services/pledges.py has step 1 and the lock itself).

- `hold`: the payment succeeded; the money goes to escrow and the campaign's totals grow;
- `await_action`: the backer must authenticate or pay in a wallet first;
- `fail`: the payment ended without money taken; the reserved units go back.
"""

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from .. import change_tokens, ledger
from ..domain.clock import utcnow
from ..extensions import db
from ..models import Pledge, Project
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectStatus
from . import investor_notices, notifications, reward_milestones, stretch_goals
from .discovery import LONG_TEXTS
from .pledges import _NO_SYNC, release_units
from .transitions import transition

# The statements every pledge runs, built once (see services/pledges.py).
# Step 3: lock the pledge, loading what its receipt shows (only the pledge row is locked).
_LOCK_WITH_RECEIPT_DATA = (
    select(Pledge)
    .where(Pledge.id == bindparam("pledge"))
    .options(
        joinedload(Pledge.backer),
        joinedload(Pledge.tier),
        joinedload(Pledge.project).options(joinedload(Project.firm), *LONG_TEXTS),
    )
    .with_for_update(of=Pledge)
    .execution_options(populate_existing=True)
)
_ADD_TO_TOTAL = (
    update(Project)
    .where(
        Project.id == bindparam("project"),
        Project.status == ProjectStatus.LIVE.value,
        Project.deadline > bindparam("now"),
    )
    .values(pledged_amount=Project.pledged_amount + bindparam("amount"))
    .execution_options(**_NO_SYNC)
)
_ADD_TO_OFFERING_TOTAL = _ADD_TO_TOTAL.returning(Project.pledged_amount, Project.goal)
# A reward's: with its lowest stretch goal not reached yet, so most pledges ask no more.
_ADD_TO_REWARD_TOTAL = _ADD_TO_TOTAL.returning(Project.pledged_amount, Project.goal, stretch_goals.LOWEST_UNREACHED)
# The backer's other held pledges on the project (are they counted among its backers already?).
_OTHER_HELD = select(Pledge.id).where(
    Pledge.project_id == bindparam("project"),
    Pledge.backer_id == bindparam("backer"),
    Pledge.status == PS.HELD.value,
    Pledge.id != bindparam("pledge"),
)
_COUNT_NEW_BACKER = (
    update(Project)
    .where(Project.id == bindparam("project"), ~_OTHER_HELD.exists())
    .values(backer_count=Project.backer_count + 1)
    .execution_options(**_NO_SYNC)
)


def lock_with_receipt_data(pledge_id):
    """`lock`, loading with the same statement what the receipt mail shows (only the pledge row is locked)."""
    return db.session.scalars(_LOCK_WITH_RECEIPT_DATA, {"pledge": pledge_id}).unique().one()


def book_processor_fee(attempt, fee):
    """What the processor kept of this pledge's charge (its fee): the processor holds that
    much less for us from now on, whatever becomes of the pledge."""
    if fee:
        ledger.transfer(
            ledger.processor_fee_id(attempt.id),
            ledger.processor_fees_key(attempt.currency),
            ledger.clearing_key(attempt.currency),
            fee,
            attempt.currency,
            ledger.PROCESSOR_FEE,
            pledge_id=attempt.id,
        )


def hold(pledge, attempt, charge_ref, *, actor_id, now, fee=None):
    """The payment succeeded: escrow it. False when the campaign closed or passed its deadline
    meanwhile: the caller must then roll back everything this wrote and refund the charge.

    The project's row is what every pledge to the campaign queues on, so it is locked last:
    the books, the pledge and its receipt are written first, and the guarded UPDATE of the
    totals comes just before COMMIT."""
    currency, clearing = attempt.currency, ledger.clearing_key(attempt.currency)
    moves = [
        ledger.Transfer(
            ledger.hold_id(attempt.id),
            clearing,
            ledger.escrow_key(attempt.project_id),
            attempt.amount,
            currency,
            ledger.PLEDGE_HOLD,
            attempt.id,
        )
    ]
    if fee:  # what the processor kept: it holds that much less for us (one INSERT with the hold)
        moves.append(
            ledger.Transfer(
                ledger.processor_fee_id(attempt.id),
                ledger.processor_fees_key(currency),
                clearing,
                fee,
                currency,
                ledger.PROCESSOR_FEE,
                attempt.id,
            )
        )
    ledger.transfer_set(*moves)
    pledge.charge_ref = charge_ref
    pledge.held_at = now
    pledge.next_action = None
    transition(pledge, PS.HELD, actor=actor_id, note="payment succeeded; money held in escrow")
    notifications.pledge_receipt(pledge)
    reward = attempt.shares is None
    totals = db.session.execute(
        _ADD_TO_REWARD_TOTAL if reward else _ADD_TO_OFFERING_TOTAL,
        {"project": attempt.project_id, "now": now, "amount": attempt.amount},
    ).first()
    moved = totals is not None
    if moved:
        if reward:  # stretch goals and the goal notice, once each
            reward_milestones.total_rose(
                attempt.project_id,
                before=totals.pledged_amount - attempt.amount,
                after=totals.pledged_amount,
                goal=totals.goal,
                now=now,
                lowest_unreached=totals.lowest_unreached_stretch,
            )
        else:  # an offering's progress notices
            investor_notices.progress(
                attempt.project_id,
                before=totals.pledged_amount - attempt.amount,
                after=totals.pledged_amount,
                goal=totals.goal,
            )
    if not moved:
        return False
    change_tokens.campaign_changed(db.session, attempt.project_id)  # the totals on its page
    # The UPDATE above locked the project row, so no other pledge of this backer can become
    # held on this project until we commit, and this statement's snapshot, taken after that
    # lock, sees any that did before: the distinct-backer count is exact. One statement:
    # count the backer unless they already have another held pledge here.
    db.session.execute(_COUNT_NEW_BACKER, _other_held_params(attempt))
    return True


def await_action(pledge, charge_ref, next_action, *, actor_id):
    """The backer must authenticate or pay in a wallet: the pledge waits, its units kept.

    What the backer must do is kept as the charge call said it: a later look (a webhook
    delivered from elsewhere) may describe the same page with another host."""
    pledge.charge_ref = charge_ref
    if pledge.next_action is None:
        pledge.next_action = next_action
    if pledge.status == PS.PENDING.value:
        transition(pledge, PS.REQUIRES_ACTION, actor=actor_id, note="waiting for the backer to complete the payment")
    return pledge


def fail(
    pledge,
    attempt,
    *,
    code,
    message,
    charge_ref=None,
    refund_ref=None,
    actor_id=None,
    tell_backer=False,
    processor_fee=None,
):
    """Release the reserved units and end the open pledge as failed; nothing reached escrow.

    `tell_backer`: mail them (a payment that ended while they were not on our page).
    `processor_fee`: what the processor kept of a charge it then refunded (a late pledge)."""
    release_units(attempt)
    book_processor_fee(attempt, processor_fee)
    pledge.charge_ref = charge_ref or pledge.charge_ref
    pledge.refund_ref = refund_ref or pledge.refund_ref
    pledge.failure_code = code
    pledge.failure_message = message
    pledge.next_action = None
    pledge.ended_at = utcnow()
    transition(pledge, PS.FAILED, actor=actor_id, note=f"{code}: {message}")
    if tell_backer:
        notifications.pledge_not_completed(pledge)
    return pledge


def _other_held_params(attempt):
    """The parameters of `_OTHER_HELD` (and `_COUNT_NEW_BACKER`) for this attempt."""
    return {"project": attempt.project_id, "backer": attempt.backer_id, "pledge": attempt.id}
