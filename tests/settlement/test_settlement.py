"""Campaigns that end: success releases escrow to the firm, anything else returns every pledge."""

from sqlalchemy import select

from crowdfund import after_commit, ledger
from crowdfund.models import OutboxMessage, ShareHolding, StateChange
from crowdfund.services import campaigns, statements
from crowdfund.workflows import cancel, checkout
from tests.support.settlement import (
    assert_ledger_ok,
    close,
    equity_campaign,
    operations,
    reward_campaign,
    settlement_of,
    statuses,
)


def mail_keys(db, prefix):
    return sorted(
        db.session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like(prefix + "%"))).all()
    )


def test_successful_reward_campaign_pays_the_firm_net_of_the_fee(make, db, app):
    project, held = reward_campaign(make, db, goal="50", backers=3)  # 3 x 25.00 USD >= 50.00
    assert close(db, project) == 1
    assert project.status == "successful"
    assert statuses(db, project) == {"released": 3}
    settlement = settlement_of(db, project)
    assert settlement.status == "completed" and settlement.outcome == "release"
    # 5% of 2500 is 125 per pledge: the firm gets 3 x 2375, paid out in one payout.
    assert settlement.payout_amount == 3 * 2375
    assert operations(db, "payout") == 1 and operations(db, "refund") == 0
    assert ledger.balance(ledger.escrow_key(project.id)) == 0
    assert ledger.balance(ledger.platform_fees_key("USD")) == 3 * 125
    assert ledger.balance(ledger.firm_payable_key(project.firm_id, "USD")) == 0
    data = statements.statement(project)
    assert {
        key: data[key]
        for key in (
            "gross",
            "cancelled",
            "refunded",
            "fee",
            "paid_out",
            "awaiting_payout",
            "in_escrow",
            "currency",
            "processor_fees",
            "processor_fees_firm",
            "processor_fees_paid_by",
            "reserved",
            "reserved_until",
            "refunds_owed",
        )
    } == {
        "gross": 7500,
        "cancelled": 0,
        "refunded": 0,
        "fee": 375,
        "paid_out": 7125,
        "awaiting_payout": 0,
        "in_escrow": 0,
        "currency": "USD",
        "processor_fees": 3 * (2500 * 290 // 10_000 + 30),
        "processor_fees_firm": 0,
        "processor_fees_paid_by": "platform",
        "reserved": 0,
        "reserved_until": None,
        "refunds_owed": 0,
    }
    assert data["payout_due_at"] == settlement.created_at  # PAYOUT_DELAY is 0 in tests
    assert len(mail_keys(db, f"campaign_succeeded:{project.id}:")) == 3
    assert mail_keys(db, "payout_sent:") != []
    audit = db.session.scalars(
        select(StateChange).where(StateChange.entity == "pledge", StateChange.to_state == "released")
    ).all()
    assert sorted(a.entity_id for a in audit) == sorted(p.id for p in held)
    assert_ledger_ok(db)


def test_a_backer_whose_pledges_fall_in_two_batches_gets_one_mail_listing_both(make, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "SETTLEMENT_BATCH_SIZE", 2)
    project, held = reward_campaign(make, db, goal="50", backers=3)
    again = checkout.place_pledge(
        held[0].backer,
        project,
        idempotency_key="attempt-second-pledge",
        payment_method="pm_card_visa",
        tier_id=project.tiers[0].id,
        quantity=2,
    )
    first_id, again_id, email = held[0].id, again.id, held[0].backer.email

    close(db, project)

    assert statuses(db, project) == {"released": 4}
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"campaign_succeeded:{project.id}:%"))
    ).all()
    assert len(messages) == 3
    [mail] = [m for m in messages if m.to_address == email]
    assert f"Pledge #{first_id}: $25.00" in mail.body_text  # released in the first batch
    assert f"Pledge #{again_id}: $50.00" in mail.body_text  # in the second
    assert "Total: $75.00" in mail.body_text


def test_failed_reward_campaign_returns_every_pledge(make, db):
    project, held = reward_campaign(make, db, goal="5000", backers=4)
    close(db, project)
    assert project.status == "failed"
    assert statuses(db, project) == {"refunded": 4}
    assert operations(db, "refund") == 4 and operations(db, "payout") == 0
    assert settlement_of(db, project).status == "completed"
    data = statements.statement(project)
    assert data["gross"] == data["refunded"] == 10_000 and data["in_escrow"] == 0 and data["fee"] == 0
    assert len(mail_keys(db, "campaign_refunded:")) == 4
    assert_ledger_ok(db)


def test_successful_equity_campaign_writes_the_share_register(make, db):
    project, held = equity_campaign(make, db, goal="100", investors=3, shares=10)  # 3 x 100.00 USD
    close(db, project)
    assert project.status == "successful"
    holdings = db.session.scalars(select(ShareHolding).order_by(ShareHolding.id)).all()
    assert [(h.user_id, h.shares, h.price_per_share) for h in holdings] == [(p.backer_id, 10, 1000) for p in held]
    assert statements.holdings_of(held[0].backer) == [holdings[0]]
    csv_text = "".join(statements.register_csv(project))
    assert csv_text.count("\r\n") == 4 and ",10,1000,USD,ordinary_shares," in csv_text
    assert settlement_of(db, project).payout_amount == 3 * 9500
    assert_ledger_ok(db)


def test_failed_equity_campaign_returns_every_commitment_and_registers_nothing(make, db):
    project, held = equity_campaign(make, db, goal="5000", investors=2, shares=10)
    close(db, project)
    assert project.status == "failed"
    assert statuses(db, project) == {"refunded": 2}
    assert db.session.scalar(select(ShareHolding.id)) is None
    assert_ledger_ok(db)


def test_a_founder_cancelling_a_live_campaign_returns_every_pledge(make, db):
    project, held = reward_campaign(make, db, goal="5000", backers=2)
    campaigns.cancel(make.founder_of(project), project, note="Our supplier closed.")
    db.session.commit()
    after_commit.run()
    db.session.expire_all()
    assert project.status == "cancelled"
    assert statuses(db, project) == {"refunded": 2}
    assert_ledger_ok(db)


def test_a_backer_cancellation_and_the_close_each_return_money_once(make, db):
    project, held = reward_campaign(make, db, goal="5000", backers=3)
    cancel.cancel_pledge(held[0].backer, held[0].id)
    close(db, project)
    assert statuses(db, project) == {"cancelled": 1, "refunded": 2}
    assert operations(db, "refund") == 3
    data = statements.statement(project)
    assert data["cancelled"] == 2500 and data["refunded"] == 7500 and data["gross"] == 7500
    assert_ledger_ok(db)


def test_settling_again_changes_nothing(make, db, app):
    from crowdfund.workflows.settlement import settle

    project, held = reward_campaign(make, db, goal="50", backers=2)
    close(db, project)
    before = (operations(db, "payout"), db.session.query(ShareHolding).count(), statements.statement(project))
    assert settle(project.id) == "completed"
    assert settle(project.id) == "completed"
    assert (operations(db, "payout"), db.session.query(ShareHolding).count(), statements.statement(project)) == before
    assert_ledger_ok(db)


def test_close_due_from_the_command_line_settles_before_it_returns(make, db, app):
    project, held = reward_campaign(make, db, goal="5000", backers=2)
    project.deadline = project.deadline.replace(year=2000)  # long past
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["campaigns", "close-due"])
    assert result.exit_code == 0, result.output
    assert "Closed 1 campaign(s)." in result.output
    db.session.expire_all()
    assert statuses(db, project) == {"refunded": 2}
    assert_ledger_ok(db)
