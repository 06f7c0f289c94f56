"""A backer takes back a pledge held in escrow. Commits its own steps.

The books move first (one transaction: ledger `pledge:<id>:refund` escrow -> clearing,
totals and units back, pledge -> cancelled, guarded by the campaign still being open),
and only then is the processor asked to refund (key `pledge-<id>-refund`). Doing the books
first means a settlement running at the deadline can never release a pledge whose money
was already sent back; a refund the processor did not confirm is retried by
`workflows.reconcile` (a cancelled pledge with no `refund_ref`), never made twice.
"""

import logging

from flask_babel import gettext as _

from ..domain.clock import utcnow
from ..errors import DomainError, NotFound, PermissionDenied
from ..extensions import db
from ..models import Pledge
from ..models.pledge import PledgeStatus as PS
from ..payments import GatewayError, get_gateway
from ..services import pledge_cancellation, pledges
from ..services.pledges import Attempt

log = logging.getLogger(__name__)


def cancel_pledge(user, pledge_id, *, now=None):
    """The backer takes back a pledge held in escrow; the money is refunded to them.

    Reward pledges: while the campaign is live. Equity commitments: until
    EQUITY_CANCEL_CUTOFF seconds before the deadline. Cancelling again is harmless."""
    now = now or utcnow()
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None:
        raise NotFound(_("There is no such pledge."))
    if pledge.backer_id != getattr(user, "id", None):
        raise PermissionDenied(_("This pledge is not yours to cancel."), code="not_your_pledge")
    try:
        pledge = pledges.lock(pledge_id)
        attempt = Attempt.of(pledge)
        charge_ref = pledge.charge_ref
        if pledge.status == PS.CANCELLED.value:
            refund_ref = pledge.refund_ref
            db.session.commit()
            if refund_ref is None and charge_ref:
                refund_cancelled(attempt, charge_ref)
            return db.session.get(Pledge, pledge_id)
        pledge_cancellation.cancel_in_books(user, pledge, attempt, now=now)
        db.session.commit()  # the books first
    except DomainError:
        db.session.rollback()
        raise
    refund_cancelled(attempt, charge_ref)  # then the processor
    return db.session.get(Pledge, pledge_id)


def refund_cancelled(attempt, charge_ref):
    """Ask the processor to refund a cancelled pledge; record the refund. True when confirmed."""
    try:
        movement = get_gateway().refund(
            charge_ref=charge_ref,
            amount=attempt.amount,
            currency=attempt.currency,
            idempotency_key=pledges.refund_key(attempt.id),
        )
    except GatewayError as error:
        log.warning("pledge %s: refund not confirmed (%s); reconcile will retry", attempt.id, error)
        return False
    pledge = pledges.lock(attempt.id)
    if pledge.refund_ref is None:
        pledge.refund_ref = movement.ref
    db.session.commit()
    return True
