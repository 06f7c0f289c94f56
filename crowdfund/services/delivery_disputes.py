"""Disputes (chargebacks) of an `on_delivery` pledge: the delivery follows its dispute.

A dispute takes the whole pledge back (services/disputes.py), so on top of what the release
at success put in the firm's payable and the platform's fees it takes the remainder held for
delivery from where that is now (ledger/disputes.py):

- still held (awaiting shipment, shipped, a problem reported, a refund not sent yet):
  `dispute_held`, held_for_delivery -> clearing;
- released on delivery (paid out or not): `dispute_delivery`, firm_payable -> clearing; once
  paid out it leaves the firm owing it, as for the net at success (dispute_firm_account.py).

The delivery becomes `disputed`: nothing releases, pays out or refunds it meanwhile. A dispute
won puts the money back the same way and the delivery where it was (`released` if it had
been; otherwise shipped / problem / awaiting shipment from what it recorded: a refund an
admin had asked for goes back to the admin). A lost one ends the delivery there.
Flush only; the caller (services/disputes.py) holds the pledge's lock.
"""

from .. import ledger
from ..domain.clock import utcnow
from ..extensions import db
from ..models.delivery import DeliveryStatus as DS
from . import transitions
from .deliveries import delivery_of


def lock_delivery(pledge_id):
    """The pledge's delivery row, locked before its legs are read (a confirmation releasing
    it at the same moment waits, or is seen), or None."""
    return delivery_of(pledge_id, lock=True)


def remainder_legs(legs):
    """The release legs a dispute takes from, with the held remainder counted once: from the
    firm's payable if it was released on delivery, else from held_for_delivery."""
    if any(leg[0] == ledger.DELIVERY_RELEASE for leg in legs):
        return [leg for leg in legs if leg[0] != ledger.DELIVERY_HOLD]
    return list(legs)


def taken(pledge, dispute_ref):
    delivery = delivery_of(pledge.id, lock=True)
    if delivery is None or delivery.status == DS.DISPUTED.value:
        return
    transitions.transition(
        delivery, DS.DISPUTED.value, note=f"dispute {dispute_ref}: the processor took the money back"
    )
    delivery.refund_after, delivery.parked = None, False
    db.session.flush()


def given_back(pledge, dispute_ref):
    delivery = delivery_of(pledge.id, lock=True)
    if delivery is None or delivery.status != DS.DISPUTED.value:
        return
    back = _where_it_was(delivery)
    transitions.transition(delivery, back, note=f"dispute {dispute_ref} won: the money came back")
    if back != DS.RELEASED.value:
        delivery.ended_at = None
    db.session.flush()


def lost(pledge):
    delivery = delivery_of(pledge.id, lock=True)
    if delivery is not None and delivery.status == DS.DISPUTED.value and delivery.ended_at is None:
        delivery.ended_at = utcnow()
        db.session.flush()


def _where_it_was(delivery):
    if delivery.released_how:
        return DS.RELEASED.value
    if delivery.problem_at is not None:
        return DS.PROBLEM.value
    if delivery.shipped_at is not None:
        return DS.SHIPPED.value
    return DS.AWAITING_SHIPMENT.value
