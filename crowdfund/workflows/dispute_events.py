"""The processor's dispute webhooks (`charge.dispute.*`): like payment events, they only make
us look again. Commits its own steps.

An event names a dispute; what it says of it is not taken as the truth (anyone could
replay an old one, and they come twice, late and out of order). The dispute is *retrieved*
from the processor, with no transaction open, and applied to its pledge under the pledge's
lock (`services.disputes.apply`), before the event itself is recorded as received: a
processor that cannot be reached makes the endpoint answer 503 and the event comes again.

A dispute of a payment our books have not seen succeed yet (its pledge still pending) first
looks at that payment (`checkout.check_payment`); if it is still not settled, the event is
asked for again later. Once the books agree with the processor, the firm's connected account
is settled with (`settle_with_firm`): a transfer reversal when the firm was paid before the
dispute took the money, a new transfer once a dispute is won after that. A failure there is
kept on the dispute for an admin (`/admin/disputes`), and the firm owes the money meanwhile.
"""

import logging

from sqlalchemy import select

from .. import after_commit
from ..errors import DomainError
from ..extensions import db
from ..models import Dispute, Pledge, Settlement
from ..payments import GatewayError, TransientGatewayError, get_gateway
from ..services import dispute_firm_account, disputes
from ..services.pledges import OPEN_STATUSES, Attempt
from . import checkout

log = logging.getLogger(__name__)

EVENTS = {
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
}


class PaymentNotSettled(TransientGatewayError):
    """The disputed payment is not settled in our books yet: ask for the event again later."""


def look_again(event):
    """Refresh the dispute a `charge.dispute.*` event names. Returns the Dispute, or None
    (another kind of event, or not a dispute of ours)."""
    if event.type not in EVENTS:
        return None
    ref = ((event.data or {}).get("object") or {}).get("id")
    if not isinstance(ref, str) or not ref:
        return None
    try:
        return refresh(ref)
    except GatewayError as error:
        if error.transient:
            raise
        # The processor will never answer otherwise (a dispute it does not have): asking for
        # the event again would not help.
        db.session.rollback()
        log.warning("Webhook %s: dispute %s could not be looked at: %s", event.id, ref, error)
        return None


def refresh(ref):
    """Ask the processor about the dispute `ref`, make our books agree, then settle with the
    firm's account. Raises TransientGatewayError when the processor does not answer."""
    db.session.commit()  # nothing of ours stays open while the processor is asked
    info = get_gateway().retrieve_dispute(ref)
    pledge_id = disputes.pledge_of(info)
    if pledge_id is None:
        db.session.commit()
        log.warning("Dispute %s is of %s, which is no payment of ours", ref, info.charge_ref)
        return None
    if db.session.get(Pledge, pledge_id).status in OPEN_STATUSES:
        _settle_payment_first(pledge_id, info.charge_ref)
        if db.session.get(Pledge, pledge_id, populate_existing=True).status in OPEN_STATUSES:
            db.session.commit()
            raise PaymentNotSettled(f"Dispute {ref}: the payment of pledge {pledge_id} is not settled yet.")
    try:
        dispute = disputes.apply(info, pledge_id)
        dispute_id = dispute.id if dispute is not None else None
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    after_commit.run()  # the mail the dispute queued, and a settlement it handed a pledge back to
    if dispute_id is not None:
        settle_with_firm(dispute_id)
    return db.session.get(Dispute, dispute_id) if dispute_id is not None else None


def _settle_payment_first(pledge_id, charge_ref):
    """The disputed payment's pledge is still open in our books: look at the payment (as its
    own webhook would), by the dispute's ref when our charge call never heard back."""
    pledge = db.session.get(Pledge, pledge_id)
    attempt, known = Attempt.of(pledge), pledge.charge_ref
    db.session.commit()
    try:
        if known is not None:
            checkout.check_payment(pledge_id)
        else:
            checkout.apply_answer(
                attempt, get_gateway().retrieve(charge_ref), actor_id=None, raise_decline=False, charge_ref=charge_ref
            )
    except DomainError:  # paid after its campaign closed: refunded and failed
        db.session.rollback()


def settle_with_firm(dispute_id):
    """Make the call the firm's connected account needs for this dispute (if any) and book
    it. Returns the Dispute. A failure is recorded on it; the money stays owed meanwhile."""
    action = dispute_firm_account.firm_action(dispute_id)
    db.session.commit()
    if action is not None:
        gateway = get_gateway()
        try:
            if action.kind == "reverse":
                movement = gateway.reverse_payout(
                    action.ref, amount=action.amount, idempotency_key=action.idempotency_key
                )
            else:
                movement = gateway.payout(
                    amount=action.amount,
                    currency=action.currency,
                    destination=action.ref,
                    idempotency_key=action.idempotency_key,
                    transfer_group=f"dispute-{dispute_id}",
                )
        except GatewayError as error:
            log.warning(
                "dispute %s: %s of %s with the firm's account failed: %s", dispute_id, action.kind, action.amount, error
            )
            dispute_firm_account.record_firm_error(action, error)
        else:
            dispute_firm_account.record_firm_action(action, movement)
        db.session.commit()
    return db.session.get(Dispute, dispute_id)


def after_payout(settlement_id):
    """A part of a settlement's payout went out (crowdfund/workflows/payouts.py). A dispute
    that took a released pledge's net after the payout's amount was fixed has left the firm
    owing it: take it back now. Returns how many disputes were looked at."""
    ids = db.session.scalars(
        select(Dispute.id)
        .join(Pledge, Pledge.id == Dispute.pledge_id)
        .join(Settlement, Settlement.project_id == Pledge.project_id)
        .where(Settlement.id == settlement_id, Dispute.booked.is_(True))
        .order_by(Dispute.id)
    ).all()
    db.session.commit()
    for dispute_id in ids:
        settle_with_firm(dispute_id)
    return len(ids)
