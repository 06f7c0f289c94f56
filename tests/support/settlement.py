"""Campaigns with pledges, closed and settled the way production does it."""

import itertools
from datetime import timedelta

from sqlalchemy import func, select

from crowdfund import ledger
from crowdfund.models import Pledge, SandboxOperation, Settlement
from crowdfund.workflows import checkout
from crowdfund.workflows.closing import close_and_settle
from tests.support.builders import investor

_keys = itertools.count(1)


def reward_campaign(make, db, *, goal="50", backers=3, quantity=1, price="25"):
    """A live reward campaign (USD) with `backers` held pledges of `quantity` x `price`."""
    project = make.live_project(goal=goal)
    tier = project.tiers[0]
    if price != "25":
        tier.price = int(float(price) * 100)
        db.session.commit()
    held = [
        checkout.place_pledge(
            make.user(name=f"Backer {i}"),
            project,
            idempotency_key=f"attempt-{next(_keys):06d}",
            payment_method="pm_card_visa",
            tier_id=tier.id,
            quantity=quantity,
        )
        for i in range(backers)
    ]
    assert all(p.status == "held" for p in held)
    return project, held


def equity_campaign(make, db, *, goal="100", investors=3, shares=10):
    """A live equity campaign (USD, 10.00 a share) with `investors` held commitments."""
    project = make.live_project(kind="equity", goal=goal)
    held = [
        checkout.place_pledge(
            investor(make, db, currency="USD"),
            project,
            idempotency_key=f"attempt-{next(_keys):06d}",
            payment_method="pm_card_visa",
            shares=shares,
            acknowledge_risks=True,
        )
        for _ in range(investors)
    ]
    assert all(p.status == "held" for p in held)
    return project, held


def close(db, project):
    """Close at the deadline (as the CLI, the scheduler and Celery beat do) and settle in-process."""
    closed = close_and_settle(now=project.deadline + timedelta(seconds=1)).closed
    db.session.expire_all()
    return closed


def operations(db, kind):
    return db.session.scalar(
        select(func.count())
        .select_from(SandboxOperation)
        .where(SandboxOperation.kind == kind, SandboxOperation.status == "succeeded")
    )


def statuses(db, project):
    return dict(
        db.session.execute(
            select(Pledge.status, func.count()).where(Pledge.project_id == project.id).group_by(Pledge.status)
        ).all()
    )


def settlement_of(db, project):
    db.session.expire_all()
    return db.session.scalar(select(Settlement).where(Settlement.project_id == project.id))


def assert_ledger_ok(db):
    db.session.expire_all()
    assert ledger.verify() == []
    db.session.rollback()
