"""The one place where projects and pledges change state.

Every change is checked against the table of legal moves and leaves an audit row
(`StateChange`: who, when, from, to, why). An illegal move raises IllegalTransition
and changes nothing.
"""

from flask_babel import gettext as _
from sqlalchemy import insert

from ..database import bulk_insert
from ..domain.clock import utcnow
from ..domain.vocabulary import (
    PLEDGE_STATUS_IN_SENTENCE as PLEDGE_STATUS_WORDS,
    PROJECT_STATUS_IN_SENTENCE as PROJECT_STATUS_WORDS,
)
from ..errors import IllegalTransition
from ..extensions import db
from ..models import Pledge, PledgeDelivery, Project, StateChange
from ..models.delivery import DeliveryStatus as DS
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectStatus as S

PROJECT_MOVES = {
    S.DRAFT: {S.IN_REVIEW},
    S.IN_REVIEW: {S.APPROVED, S.CHANGES_REQUESTED, S.REJECTED},
    S.CHANGES_REQUESTED: {S.DRAFT, S.IN_REVIEW},
    S.APPROVED: {S.LIVE, S.CANCELLED},
    S.LIVE: {S.SUCCESSFUL, S.FAILED, S.CANCELLED, S.SUSPENDED},
    S.REJECTED: set(),
    S.SUCCESSFUL: set(),
    S.FAILED: set(),
    S.CANCELLED: set(),
    S.SUSPENDED: set(),
}

PLEDGE_MOVES = {
    PS.PENDING: {PS.HELD, PS.FAILED, PS.REQUIRES_ACTION},
    PS.REQUIRES_ACTION: {PS.HELD, PS.FAILED},
    PS.HELD: {PS.RELEASED, PS.REFUNDED, PS.CANCELLED, PS.DISPUTED},
    # A chargeback can come after release too; a dispute won puts the pledge back where it was.
    PS.RELEASED: {PS.DISPUTED},
    PS.DISPUTED: {PS.HELD, PS.RELEASED},
    PS.REFUNDED: set(),
    PS.CANCELLED: set(),
    PS.FAILED: set(),
}

# Release on delivery (services/deliveries.py): where a released pledge's reward, and the
# remainder held for it, are. Audited as entity "delivery" (the pledge_deliveries row).
DELIVERY_MOVES = {
    DS.AWAITING_SHIPMENT: {DS.SHIPPED, DS.PROBLEM, DS.RELEASED, DS.REFUNDING, DS.DISPUTED},
    DS.SHIPPED: {DS.PROBLEM, DS.RELEASED, DS.DISPUTED},
    DS.PROBLEM: {DS.RELEASED, DS.REFUNDING, DS.DISPUTED},
    DS.REFUNDING: {DS.REFUNDED, DS.DISPUTED},
    DS.RELEASED: {DS.DISPUTED},
    DS.REFUNDED: set(),
    # A dispute won puts the delivery back where it was (a refund under way: back to the admin).
    DS.DISPUTED: {DS.AWAITING_SHIPMENT, DS.SHIPPED, DS.PROBLEM, DS.RELEASED},
}

_TABLES = {
    Project: ("project", S, PROJECT_MOVES),
    Pledge: ("pledge", PS, PLEDGE_MOVES),
    PledgeDelivery: ("delivery", DS, DELIVERY_MOVES),
}
_BY_ENTITY = {entity: (states, moves) for entity, states, moves in _TABLES.values()}
_AUDIT_ROW = insert(StateChange.__table__)


def can_move(obj, to):
    _, states, moves = _TABLES[type(obj)]
    return states(to) in moves[states(obj.status)]


def transition(obj, to, *, actor=None, note=""):
    """Move `obj` (a Project or Pledge) to state `to`, or raise IllegalTransition."""
    entity, states, moves = _TABLES[type(obj)]
    current, target = states(obj.status), states(to)
    if target not in moves[current]:
        raise IllegalTransition(_refusal(entity, obj, current, target), code="wrong_state")
    obj.status = target.value
    # The audit row as one Core INSERT, now: no ORM object for the unit of work to track and
    # flush (every pledge writes two of these on its way to escrow).
    db.session.execute(
        _AUDIT_ROW,
        {
            "entity": entity,
            "entity_id": obj.id,
            "from_state": current.value,
            "to_state": target.value,
            "actor_id": getattr(actor, "id", actor),
            "note": note or "",
            "created_at": utcnow(),
        },
    )
    return obj


def record_many(entity, ids, from_state, to_state, *, actor=None, note=""):
    """Audit rows for a batch whose status was changed by one guarded UPDATE (settlement).

    The caller's UPDATE must have matched `status = from_state`; this checks the move is
    legal and writes one row per id in a single statement.
    """
    states, moves = _BY_ENTITY[entity]
    if states(to_state) not in moves[states(from_state)]:
        raise IllegalTransition(f"A {entity} cannot go from {from_state} to {to_state}.")
    if not ids:
        return
    now = utcnow()
    bulk_insert(
        db.session,
        StateChange.__table__,
        [
            {
                "entity": entity,
                "entity_id": i,
                "from_state": from_state,
                "to_state": to_state,
                "actor_id": getattr(actor, "id", actor),
                "note": note,
                "created_at": now,
            }
            for i in ids
        ],
    )


def _refusal(entity, obj, current, target):
    if entity == "project":
        return _(
            "This project is %(current)s, so it cannot become %(target)s.",
            current=PROJECT_STATUS_WORDS[current],
            target=PROJECT_STATUS_WORDS[target],
        )
    if entity == "delivery":
        return _("This reward's delivery has moved on already; reload the page to see where it is.")
    return _(
        "This pledge is %(current)s, so it cannot become %(target)s.",
        current=PLEDGE_STATUS_WORDS[current],
        target=PLEDGE_STATUS_WORDS[target],
    )


def history(obj):
    entity = _TABLES[type(obj)][0]
    return db.session.scalars(
        db.select(StateChange)
        .where(StateChange.entity == entity, StateChange.entity_id == obj.id)
        .order_by(StateChange.id)
    ).all()
