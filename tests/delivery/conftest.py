"""Release on delivery: an on_delivery reward campaign with held pledges, closed and settled the
way production does it, and what the tests read of it (the statement, the ledger, mail)."""

import itertools

import pytest
from sqlalchemy import select

from crowdfund import ledger
from crowdfund.models import OutboxMessage, SandboxOperation
from crowdfund.services import statements
from crowdfund.workflows import checkout
from tests.api.conftest import Api

_keys = itertools.count(1)


@pytest.fixture()
def api(client):
    return Api(client)


def on_delivery_campaign(make, backers=3, price="25", **overrides):
    """A live on_delivery reward campaign (USD, goal 50) with `backers` held pledges of one unit."""
    project = make.live_project(release_model="on_delivery", goal="50", **overrides)
    tier = project.tiers[0]
    pledges = []
    for i in range(backers):
        pledges.append(
            checkout.place_pledge(
                make.user(name=f"Backer {i}"),
                project,
                idempotency_key=f"delivery-{next(_keys):06d}",
                payment_method="pm_card_visa",
                tier_id=tier.id,
            )
        )
    assert all(p.status == "held" for p in pledges)
    return project, pledges


def statement_of(db, project):
    db.session.expire_all()
    data = statements.statement(project)
    db.session.rollback()
    return data


def assert_identity(data):
    left = data["gross"] - data["refunded"] - data["disputed"]
    right = (
        data["in_escrow"]
        + data["held_for_delivery"]
        + data["fee"]
        + data["processor_fees_firm"]
        + data["paid_out"]
        + data["awaiting_payout"]
    )
    assert left == right, data


def assert_books_ok(db):
    db.session.expire_all()
    assert ledger.verify() == []
    db.session.rollback()


def mail_to(db, user, containing=""):
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == user.email)).all()
    return [m for m in rows if containing in m.subject or containing in m.body_text]


def sandbox_refunds(db):
    return db.session.scalars(
        select(SandboxOperation.amount).where(SandboxOperation.kind == "refund", SandboxOperation.status == "succeeded")
    ).all()
