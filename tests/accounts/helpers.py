"""What the account tests share: verified people, pledges, and the audit trail."""

import itertools

from sqlalchemy import select

from crowdfund.models import StateChange, utcnow
from crowdfund.workflows import checkout

_keys = itertools.count(1)


def verified(db, user):
    """`user` with a confirmed email address (pledging needs one)."""
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        db.session.commit()
    return user


def pledge(db, backer, project, **kwargs):
    """Back `project` (its first reward, unless told otherwise) as `backer` would."""
    verified(db, backer)
    if "amount" not in kwargs and "shares" not in kwargs:
        kwargs.setdefault("tier_id", project.tiers[0].id)
    if kwargs.get("shares") is not None:
        kwargs.setdefault("acknowledge_risks", True)
    return checkout.place_pledge(
        backer, project, idempotency_key=f"account-test-{next(_keys):06d}", payment_method="pm_card_visa", **kwargs
    )


def standing_changes(db, user):
    """The audit rows about `user`'s account, oldest first: (from, to, actor id, note)."""
    db.session.expire_all()
    return [
        (row.from_state, row.to_state, row.actor_id, row.note)
        for row in db.session.scalars(
            select(StateChange)
            .where(StateChange.entity == "user", StateChange.entity_id == user.id)
            .order_by(StateChange.id)
        )
    ]


ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "line2": "",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}


def shipping_campaign(make, db, **kwargs):
    """A live reward campaign (USD) whose one reward ships worldwide for $5.00."""
    from tests.support.builders import live_reward_project

    return live_reward_project(
        make,
        db,
        currency="USD",
        goal=100_000,
        tiers=[{"title": "A boxed lamp", "price": 2500, "quantity": 50, "shipping": "worldwide", "shipping_fee": 500}],
        **kwargs,
    )
