"""Finish what an outage, a lost webhook or an abandoned authentication left half-done.

Safe to run at any time and to repeat (`flask pledges reconcile`, the scheduler, Celery
beat). It never creates a charge for a payment the processor already knows: a pledge
whose payment has a processor reference is *retrieved*; only a pledge whose charge call
never answered is sent again with the same idempotency key, and only while the processor
still remembers that key (`PROCESSOR_IDEMPOTENCY_WINDOW`); past it, the payment is looked
up by our key instead. Commits its own steps, like the checkout.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select

from ..domain.clock import utcnow
from ..errors import DomainError
from ..extensions import db
from ..models import Pledge
from ..models.pledge import PledgeStatus as PS
from ..payments import ChargeResult, GatewayError, TransientGatewayError, get_gateway
from ..services import pledges
from ..services.pledges import OPEN_STATUSES, Attempt
from . import checkout
from .cancel import refund_cancelled
from .pledge_change import resume_changes

log = logging.getLogger(__name__)

OUTCOMES = {PS.HELD.value: "held", PS.FAILED.value: "failed"}


def reconcile_pending(older_than=None, *, now=None):
    """Finish open pledges and unconfirmed refunds. Returns counts by outcome.

    - pending or requires_action pledges older than `older_than` (default
      PLEDGE_RECONCILE_AFTER): the processor is asked what became of the payment;
    - those still waiting for the backer after PLEDGE_ACTION_TIMEOUT: the payment is
      cancelled at the processor, the units come back and the backer is told;
    - cancelled pledges whose refund the processor never confirmed: refunded again with
      the same key.
    """
    config = current_app.config
    now = now or utcnow()
    older_than = older_than if older_than is not None else timedelta(seconds=config["PLEDGE_RECONCILE_AFTER"])
    expire_before = now - timedelta(seconds=config["PLEDGE_ACTION_TIMEOUT"])
    rows = db.session.execute(
        select(Pledge.id, Pledge.created_at)
        .where(
            or_(
                and_(Pledge.status.in_(OPEN_STATUSES), Pledge.created_at <= now - older_than),
                and_(Pledge.status == PS.REQUIRES_ACTION.value, Pledge.created_at <= expire_before),
            )
        )
        .order_by(Pledge.id)
    ).all()
    unrefunded = db.session.scalars(
        select(Pledge.id)
        .where(Pledge.status == PS.CANCELLED.value, Pledge.refund_ref.is_(None), Pledge.charge_ref.is_not(None))
        .order_by(Pledge.id)
    ).all()
    db.session.commit()
    summary = {
        "held": 0,
        "failed": 0,
        "expired": 0,
        "still_pending": 0,
        "refunds_confirmed": 0,
        "refunds_outstanding": 0,
        "errors": 0,
    }
    for pledge_id, created_at in rows:
        try:
            outcome = _finish(pledge_id, expire=created_at <= expire_before, now=now)
        except Exception:  # one bad pledge must not stop the others
            db.session.rollback()
            log.exception("pledge %s: reconcile failed", pledge_id)
            outcome = "errors"
        summary[outcome] += 1
    for pledge_id in unrefunded:
        pledge = db.session.get(Pledge, pledge_id)
        attempt, charge_ref = Attempt.of(pledge), pledge.charge_ref
        db.session.commit()
        summary["refunds_confirmed" if refund_cancelled(attempt, charge_ref) else "refunds_outstanding"] += 1
    # Pledge changes a crash or a silent processor left open (workflows/pledge_change.py).
    resume_changes(older_than.total_seconds(), now=now)
    return summary


def _finish(pledge_id, *, expire, now):
    """Look again at one open pledge; expire it if the backer never completed the payment."""
    try:
        pledge = _look_again(pledge_id, now=now)
        if expire and pledge is not None and pledge.status == PS.REQUIRES_ACTION.value:
            pledge = _expire(pledge_id)
            if pledge.status == PS.FAILED.value:
                return "expired"
    except TransientGatewayError as error:
        log.warning("pledge %s: the processor did not answer (%s); trying again next run", pledge_id, error)
        db.session.rollback()
        return "still_pending"
    except DomainError:  # declined or too late: the pledge is failed (or still open), counted below
        db.session.rollback()
    status = db.session.get(Pledge, pledge_id, populate_existing=True).status
    db.session.commit()
    return OUTCOMES.get(status, "still_pending")


def _look_again(pledge_id, *, now):
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.status not in OPEN_STATUSES:
        db.session.commit()
        return pledge
    if pledge.charge_ref is not None:
        return checkout.check_payment(pledge_id)
    # The charge call never answered: we do not know the processor's reference.
    attempt, created_at = Attempt.of(pledge), pledge.created_at
    db.session.commit()
    window = timedelta(seconds=current_app.config["PROCESSOR_IDEMPOTENCY_WINDOW"])
    if now - created_at < window:
        # The processor still remembers the key: the same request replays its first answer
        # (or makes the charge for the first time, if it never arrived). Never a second charge.
        # Nobody waits on this answer: a decline is mailed to the backer, not raised.
        return checkout.charge(attempt, actor_id=None, raise_decline=False)
    # Past the window the key is forgotten: look the payment up by it instead. None means
    # the processor has no payment under our key, so nothing was taken.
    found = get_gateway().find_charge(pledges.charge_key(attempt.id))
    return checkout.apply_answer(attempt, found or _NOT_FOUND, actor_id=None, raise_decline=False)


def _expire(pledge_id):
    """Cancel a payment the backer never completed; what the processor answers is applied."""
    pledge = db.session.get(Pledge, pledge_id)
    attempt, ref = Attempt.of(pledge), pledge.charge_ref
    db.session.commit()
    try:
        result = get_gateway().cancel(ref, idempotency_key=pledges.cancel_key(attempt.id))
    except TransientGatewayError:
        raise
    except GatewayError as error:
        log.warning("pledge %s: the processor refused to cancel %s (%s)", pledge_id, ref, error)
        result = get_gateway().retrieve(ref)
    if result.final and not result.ok:
        result = _EXPIRED
    return checkout.apply_answer(attempt, result, actor_id=None, raise_decline=False, charge_ref=ref)


_NOT_FOUND = ChargeResult(
    ok=False,
    decline_code="payment_not_found",
    message="The processor has no payment for this pledge; nothing was taken.",
)
_EXPIRED = ChargeResult(
    ok=False, decline_code="action_expired", message="The payment was not completed in time, so nothing was taken."
)
