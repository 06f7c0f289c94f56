"""What the payment processor keeps, in our books: booked with each charge, never returned
on a refund, borne by the platform or (PROCESSOR_FEES_PAID_BY = "firm") by the firm, and
shown on every statement with an identity that adds up to the cent."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowdfund import ledger
from crowdfund.errors import Conflict
from crowdfund.models import LedgerTransfer, SandboxOperation, utcnow
from crowdfund.services import statements
from crowdfund.workflows import checkout
from tests.support.builders import live_reward_project
from tests.support.settlement import assert_ledger_ok, close, reward_campaign, settlement_of


def card_fee(amount):
    """The sandbox's default pricing: 2.9% + 30 minor units."""
    return amount * 290 // 10_000 + 30


def identity_holds(data):
    return (
        data["gross"] - data["refunded"]
        == data["in_escrow"] + data["fee"] + data["processor_fees_firm"] + data["paid_out"] + data["awaiting_payout"]
    )


def test_each_charge_books_the_fee_the_processor_kept(make, db):
    project, held = reward_campaign(make, db, backers=2)
    fees = db.session.scalars(select(LedgerTransfer.amount).where(LedgerTransfer.code == "processor_fee")).all()
    assert fees == [card_fee(2_500)] * 2
    kept = db.session.scalars(select(SandboxOperation.fee).where(SandboxOperation.kind == "charge")).all()
    assert kept == fees  # the processor's own book says the same
    data = statements.statement(project)
    assert data["processor_fees"] == 2 * card_fee(2_500) and identity_holds(data)
    assert_ledger_ok(db)


def test_a_failed_campaign_costs_the_platform_the_processors_fees(make, db):
    project, held = reward_campaign(make, db, goal="5000", backers=3)
    close(db, project)
    data = statements.statement(project)
    assert data["refunded"] == data["gross"] == 3 * 2_500  # every backer gets everything back
    assert data["processor_fees"] == 3 * card_fee(2_500) and data["processor_fees_paid_by"] == "platform"
    assert identity_holds(data)
    assert ledger.balance(ledger.processor_fees_key("USD")) == -3 * card_fee(2_500)  # the platform's cost
    assert_ledger_ok(db)


@pytest.mark.parametrize("paid_by", ["platform", "firm"])
def test_a_successful_campaign_says_who_paid_the_fees(make, db, app, monkeypatch, paid_by):
    monkeypatch.setitem(app.config, "PROCESSOR_FEES_PAID_BY", paid_by)
    project, held = reward_campaign(make, db, goal="50", backers=3)
    close(db, project)
    data = statements.statement(project)
    fees, platform_fee = 3 * card_fee(2_500), data["fee"]
    assert data["processor_fees"] == fees and data["processor_fees_paid_by"] == paid_by
    firm_share = 3 * 2_500 - platform_fee - (fees if paid_by == "firm" else 0)
    assert data["paid_out"] == firm_share == settlement_of(db, project).payout_amount
    assert data["processor_fees_firm"] == (fees if paid_by == "firm" else 0)
    assert identity_holds(data)
    assert ledger.balance(ledger.processor_fees_key("USD")) == (0 if paid_by == "firm" else -fees)
    assert_ledger_ok(db)


def test_the_statement_page_and_csv_show_the_processors_fees(client, make, login, db):
    project, _ = reward_campaign(make, db, goal="5000", backers=1)
    close(db, project)
    login(make.founder_of(project))
    page = client.get(f"/projects/{project.id}/statement").get_data(as_text=True)
    assert "the platform bore them" in page
    csv_text = client.get(f"/projects/{project.id}/statement.csv").get_data(as_text=True)
    header, row = csv_text.strip().splitlines()
    values = dict(zip(header.split(","), row.split(",")))
    assert values["processor_fees"] == str(card_fee(2_500)) and values["processor_fees_paid_by"] == "platform"


def test_a_payment_that_came_after_the_close_leaves_only_the_fee_behind(make, db):
    project = live_reward_project(make, db, tiers=[{"title": "Cup", "price": 1_000, "quantity": 5}])
    pledge = checkout.place_pledge(
        make.user(),
        project,
        idempotency_key="attempt-late-fee",
        payment_method="pm_alipay",
        tier_id=project.tiers[0].id,
    )
    project.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
    from crowdfund.payments import get_gateway

    get_gateway().complete(pledge.charge_ref, succeed=True)  # the backer paid, too late
    with pytest.raises(Conflict):  # the return page looks again: refunded at once
        checkout.check_payment(pledge.id)
    codes = db.session.scalars(select(LedgerTransfer.code).where(LedgerTransfer.pledge_id == pledge.id)).all()
    assert codes == ["processor_fee"]  # refunded at once; the processor kept its fee
    assert_ledger_ok(db)
