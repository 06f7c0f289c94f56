"""A dispute of a pledge still held in escrow: opened, then won or lost."""

from sqlalchemy import select

from crowdfund import ledger
from crowdfund.models import OutboxMessage, Pledge, Project, StateChange, User
from tests.disputes.helpers import (
    books_agree,
    decide,
    deliver,
    dispute_of,
    identity_holds,
    pledge_to_dispute,
    sandbox_dispute,
)
from tests.support.settlement import close, reward_campaign, statuses


def test_a_dispute_of_a_held_pledge_takes_its_money_out_of_escrow_and_a_win_puts_it_back(app, client, make, db):
    admin = make.admin(email="root@example.com")
    project, held = reward_campaign(make, db, goal="5000", backers=2)
    pledge = pledge_to_dispute(make, project)
    assert sandbox_dispute(db, pledge).status == "needs_response"  # its webhook comes a moment later
    deliver(app, db)
    dispute = dispute_of(db, pledge)
    assert (dispute.status, dispute.pledge_status_before, dispute.booked) == ("needs_response", "held", True)
    assert dispute.evidence_url == f"/sandbox/disputes/{dispute.processor_ref}" and dispute.evidence_due_by
    assert dispute.fee == 1500
    pledge = db.session.get(Pledge, pledge.id)
    assert pledge.status == "disputed"
    assert ledger.balance(ledger.escrow_key(project.id)) == 2 * 2_500
    project = db.session.get(Project, project.id)
    assert (project.pledged_amount, project.backer_count) == (2 * 2_500, 2)  # as after a cancellation
    assert (
        db.session.scalar(
            select(StateChange.to_state)
            .where(StateChange.entity == "pledge", StateChange.entity_id == pledge.id)
            .order_by(StateChange.id.desc())
        )
        == "disputed"
    )
    mailed = {
        row.to_address
        for row in db.session.query(OutboxMessage).filter(
            OutboxMessage.dedupe_key.like(f"dispute_opened:{dispute.id}:%")
        )
    }
    admins = {user.email for user in db.session.query(User).filter(User.is_admin.is_(True))}
    assert admin.email in admins and mailed == admins | {make.founder_of(project).email}
    books_agree(app, db)
    assert identity_holds(project)["disputed"] == 2_500

    decide(client, dispute.processor_ref, "won")
    deliver(app, db)
    dispute = dispute_of(db, pledge)
    assert dispute.status == "won" and dispute.closed_at is not None
    assert db.session.get(Pledge, pledge.id).status == "held"
    assert ledger.balance(ledger.escrow_key(project.id)) == 3 * 2_500
    project = db.session.get(Project, project.id)
    assert (project.pledged_amount, project.backer_count) == (3 * 2_500, 3)
    books_agree(app, db)
    assert identity_holds(project)["disputed"] == 0


def test_a_lost_dispute_leaves_the_money_with_the_backer_and_settlement_leaves_the_pledge_alone(app, client, make, db):
    project, held = reward_campaign(make, db, goal="5000", backers=2)
    pledge = pledge_to_dispute(make, project)
    deliver(app, db)
    decide(client, dispute_of(db, pledge).processor_ref, "lost")
    deliver(app, db)
    dispute = dispute_of(db, pledge)
    assert dispute.status == "lost" and dispute.closed_at is not None
    pledge = db.session.get(Pledge, pledge.id)
    assert pledge.status == "disputed" and pledge.ended_at is not None
    books_agree(app, db)
    close(db, project)  # the campaign fails: the others are refunded, the disputed one is not
    assert statuses(db, project) == {"refunded": 2, "disputed": 1}
    books_agree(app, db)
    data = identity_holds(project)
    assert (data["refunded"], data["disputed"], data["in_escrow"]) == (2 * 2_500, 2_500, 0)


def test_a_dispute_won_after_its_campaign_failed_hands_the_pledge_to_the_refunds(app, client, make, db):
    project, _held = reward_campaign(make, db, goal="5000", backers=1)
    pledge = pledge_to_dispute(make, project)
    deliver(app, db)
    close(db, project)
    assert statuses(db, project) == {"refunded": 1, "disputed": 1}
    decide(client, dispute_of(db, pledge).processor_ref, "won")
    deliver(app, db)  # held again, and its settlement runs once more: refunded like the others
    assert statuses(db, project) == {"refunded": 2}
    books_agree(app, db)
    data = identity_holds(project)
    assert (data["refunded"], data["disputed"], data["in_escrow"]) == (2 * 2_500, 0, 0)


def test_a_dispute_won_after_its_campaign_was_paid_out_pays_the_firm_its_share_then(app, client, make, db):
    project, _held = reward_campaign(make, db, goal="50", backers=2)
    pledge = pledge_to_dispute(make, project)
    deliver(app, db)
    close(db, project)  # succeeds without the disputed pledge: paid out
    assert statuses(db, project) == {"released": 2, "disputed": 1}
    books_agree(app, db)
    decide(client, dispute_of(db, pledge).processor_ref, "won")
    deliver(app, db)  # held again, released by its settlement, and its net paid to the firm
    assert statuses(db, project) == {"released": 3}
    dispute = dispute_of(db, pledge)
    assert dispute.repay_ref is not None
    assert ledger.balance(ledger.firm_payable_key(project.firm_id, "USD")) == 0
    books_agree(app, db)
    data = identity_holds(project)
    assert (data["disputed"], data["awaiting_payout"], data["in_escrow"]) == (0, 0, 0)
