"""Disputes the way they happen: a backer pays with the sandbox's `pm_card_createDispute`,
the sandbox opens the dispute a moment later, and its webhooks are delivered."""

import itertools
from datetime import timedelta

from sqlalchemy import select

from crowdfund import ledger
from crowdfund.jobs.sandbox_webhooks import deliver_due
from crowdfund.models import Dispute, SandboxOperation, utcnow
from crowdfund.services import statements
from crowdfund.workflows import checkout

_keys = itertools.count(1)


def pledge_to_dispute(make, project, *, name="Disputing backer"):
    """A held pledge paid with the card whose charge the sandbox disputes shortly after."""
    pledge = checkout.place_pledge(
        make.user(name=name),
        project,
        idempotency_key=f"dispute-{next(_keys):06d}",
        payment_method="pm_card_createDispute",
        tier_id=project.tiers[0].id,
    )
    assert pledge.status == "held"
    return pledge


def deliver(app, db, *, seconds=60):
    """Deliver every sandbox webhook due within `seconds` (a dispute waits a moment)."""
    db.session.commit()  # our own snapshot ends: the deliveries run in sessions of their own
    report = deliver_due(app, now=utcnow() + timedelta(seconds=seconds))
    db.session.rollback()
    return report


def sandbox_dispute(db, pledge):
    """The sandbox's record of the dispute of this pledge's charge."""
    return db.session.scalar(
        select(SandboxOperation).where(
            SandboxOperation.kind == "dispute", SandboxOperation.reference == pledge.charge_ref
        )
    )


def dispute_of(db, pledge):
    db.session.rollback()
    return db.session.scalar(select(Dispute).where(Dispute.pledge_id == pledge.id))


def decide(client, ref, outcome):
    """The card network's decision, on the sandbox's page (no CSRF: it is not our page)."""
    response = client.post(f"/sandbox/disputes/{ref}", data={"outcome": outcome})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def reconcile(app):
    result = app.test_cli_runner().invoke(args=["ledger", "reconcile"])
    return result.exit_code, result.output


def books_agree(app, db):
    """ledger verify finds nothing and ledger reconcile exits 0."""
    db.session.expire_all()
    assert ledger.verify() == []
    db.session.rollback()
    code, output = reconcile(app)
    assert code == 0, output


def identity_holds(project):
    data = statements.statement(project)
    assert (
        data["gross"] - data["refunded"] - data["disputed"]
        == data["in_escrow"] + data["fee"] + data["processor_fees_firm"] + data["paid_out"] + data["awaiting_payout"]
    ), data
    return data
