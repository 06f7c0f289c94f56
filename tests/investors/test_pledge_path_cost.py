"""What the rules cost a pledge: nothing for a reward pledge; one statement for an equity limit."""

import secrets

from crowdfund.workflows import checkout
from tests.support.builders import investor, live_equity_project, live_reward_project
from tests.support.statements import statements


def test_a_reward_pledge_reads_nothing_about_investors_or_rates(make, db):
    project = live_reward_project(make, db)
    backer = make.user()
    with statements(db) as seen:
        pledge = checkout.place_pledge(
            backer,
            project,
            idempotency_key=secrets.token_urlsafe(16),
            payment_method="pm_card_visa",
            tier_id=project.tiers[0].id,
        )
    assert pledge.status == "held"
    for table in ("fx_rates", "investor_profiles", "equity_offerings"):
        assert not [s for s in seen if table in s], table


def test_an_equity_pledge_reads_the_rates_and_its_allowance_in_one_statement(make, db):
    project = live_equity_project(make, db, currency="EUR")
    backer = investor(make, db, currency="CNY")
    with statements(db) as seen:
        pledge = checkout.place_pledge(
            backer,
            project,
            idempotency_key=secrets.token_urlsafe(16),
            payment_method="pm_card_visa",
            shares=10,
            acknowledge_risks=True,
        )
    assert pledge.status == "held"
    reads = [s for s in seen if "fx_rates" in s]
    assert len(reads) == 1 and "union all" in reads[0] and "pledges" in reads[0]
