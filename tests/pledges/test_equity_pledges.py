"""Equity commitments: shares, the investor profile, the 12-month limit."""

import secrets
from datetime import timedelta

import pytest

from crowdfund import ledger
from crowdfund.errors import Conflict, ValidationError
from crowdfund.models import EquityOffering, Pledge
from crowdfund.workflows import cancel, checkout
from tests.support.builders import charges, investor, live_equity_project

USD = 100  # cents per dollar


def commit(backer, project, shares, **kwargs):
    kwargs.setdefault("idempotency_key", secrets.token_urlsafe(16))
    kwargs.setdefault("payment_method", "pm_card_visa")
    kwargs.setdefault("acknowledge_risks", True)
    return checkout.place_pledge(backer, project, shares=shares, **kwargs)


def test_shares_are_bought_at_the_offering_price(make, db):
    project = live_equity_project(make, db, price_per_share=250, shares_offered=1_000, min_shares=10)
    backer = investor(make, db)
    pledge = commit(backer, project, 40)
    assert pledge.status == "held" and pledge.shares == 40 and pledge.amount == 10_000
    assert db.session.get(EquityOffering, project.equity.id).shares_committed == 40
    assert ledger.balance(ledger.escrow_key(project)) == 10_000
    assert ledger.verify() == []


def test_fewer_than_the_minimum_shares_is_refused(make, db):
    project = live_equity_project(make, db, min_shares=10)
    backer = investor(make, db)
    for shares in (9, 0, -5):
        with pytest.raises(ValidationError) as refused:
            commit(backer, project, shares)
        assert refused.value.code == "below_min_shares"
        assert refused.value.message == "The smallest investment is 10 shares."
    with pytest.raises(ValidationError):
        commit(backer, project, None)
    assert db.session.query(Pledge).count() == 0 and charges(db) == 0


def test_an_equity_campaign_takes_shares_not_amounts(make, db):
    project = live_equity_project(make, db)
    backer = investor(make, db)
    with pytest.raises(ValidationError) as refused:
        commit(backer, project, 10, amount=5_000)
    assert "shares" in refused.value.fields


def test_an_absurd_number_of_shares_is_refused(make, db):
    project = live_equity_project(make, db, shares_offered=10**15)
    backer = investor(make, db, accredited=True)
    with pytest.raises(ValidationError) as refused:
        commit(backer, project, 10**13)
    assert refused.value.code == "amount_too_large"
    assert charges(db) == 0


def test_never_more_shares_than_offered(make, db):
    project = live_equity_project(make, db, shares_offered=100)
    commit(investor(make, db), project, 70)
    with pytest.raises(Conflict) as refused:
        commit(investor(make, db), project, 31)
    assert refused.value.code == "sold_out" and refused.value.message == "Only 30 shares are left."
    commit(investor(make, db), project, 30)
    with pytest.raises(Conflict) as refused:
        commit(investor(make, db), project, 1)
    assert refused.value.message == "Every share on offer is taken."
    assert db.session.get(EquityOffering, project.equity.id).shares_committed == 100
    assert charges(db) == 2


def test_the_first_investment_needs_a_profile_and_the_risks_acknowledged(make, db):
    project = live_equity_project(make, db)
    backer = make.user()
    with pytest.raises(ValidationError) as refused:
        commit(backer, project, 10)
    assert refused.value.code == "investor_profile_required"
    assert "investor profile" in refused.value.message
    assert db.session.query(Pledge).count() == 0 and charges(db) == 0
    investor(make, db, user=backer)
    assert commit(backer, project, 10).status == "held"


def test_a_profile_in_another_currency_is_converted_not_refused(make, db):
    # CNY 100,000 of income is about USD 14,142: below the threshold, so the floor (USD 2,500) applies.
    project = live_equity_project(make, db, currency="USD", price_per_share=1 * USD, shares_offered=10_000)
    backer = investor(make, db, currency="CNY", income=100_000 * 100, net_worth=0)
    with pytest.raises(ValidationError) as refused:
        commit(backer, project, 2_501)
    assert refused.value.code == "investment_limit_exceeded"
    assert "reference rates of 2026-12-01" in refused.value.message
    assert commit(backer, project, 2_500).status == "held"


def test_a_declined_commitment_gives_its_shares_back(make, db):
    from crowdfund.errors import PaymentDeclined

    project = live_equity_project(make, db, shares_offered=10)
    with pytest.raises(PaymentDeclined):
        commit(investor(make, db), project, 10, payment_method="pm_card_chargeDeclined")
    assert db.session.get(EquityOffering, project.equity.id).shares_committed == 0
    assert commit(investor(make, db), project, 10).status == "held"
    assert ledger.verify() == []


# -- the 12-month limit: income $100,000 and net worth $50,000 (below $124,000), so the
#    limit is the greater of $2,500 and 5% of $100,000: $5,000 = 5,000 shares at $1.


def limited_investor(make, db, **kwargs):
    return investor(make, db, income=100_000 * USD, net_worth=50_000 * USD, **kwargs)


@pytest.mark.parametrize("shares, accepted", [(4_999, True), (5_000, True), (5_001, False)])
def test_the_limit_at_just_under_and_just_over_the_bound(make, db, shares, accepted):
    project = live_equity_project(make, db, price_per_share=1 * USD, shares_offered=100_000)
    backer = limited_investor(make, db)
    if accepted:
        assert commit(backer, project, shares).status == "held"
        return
    with pytest.raises(ValidationError) as refused:
        commit(backer, project, shares)
    assert refused.value.code == "investment_limit_exceeded"
    assert "You can invest $5,000.00 more" in refused.value.message
    assert "your limit is $5,000.00" in refused.value.message
    assert db.session.query(Pledge).count() == 0 and charges(db) == 0
    assert db.session.get(EquityOffering, project.equity.id).shares_committed == 0


def test_the_limit_counts_earlier_commitments_and_other_platforms(make, db):
    first = live_equity_project(make, db, price_per_share=1 * USD, shares_offered=100_000)
    second = live_equity_project(make, db, price_per_share=1 * USD, shares_offered=100_000)
    backer = limited_investor(make, db, other=1_000 * USD)  # $1,000 elsewhere: $4,000 left
    commit(backer, first, 2_500)
    with pytest.raises(ValidationError) as refused:
        commit(backer, second, 1_501)
    assert "You can invest $1,500.00 more" in refused.value.message
    assert commit(backer, second, 1_500).status == "held"  # exactly the rest
    with pytest.raises(ValidationError) as refused:
        commit(backer, first, 1)
    assert "You can invest $0.00 more" in refused.value.message


def test_a_cancelled_or_failed_commitment_frees_the_allowance(make, db):
    from crowdfund.errors import PaymentDeclined

    project = live_equity_project(make, db, price_per_share=1 * USD, shares_offered=100_000)
    backer = limited_investor(make, db)
    with pytest.raises(PaymentDeclined):
        commit(backer, project, 5_000, payment_method="pm_card_chargeDeclined")
    held = commit(backer, project, 5_000)
    cancel.cancel_pledge(backer, held.id)
    assert commit(backer, project, 5_000).status == "held"


def test_commitments_older_than_a_year_no_longer_count(make, db):
    project = live_equity_project(make, db, price_per_share=1 * USD, shares_offered=100_000)
    backer = limited_investor(make, db)
    old = commit(backer, project, 5_000)
    old.created_at = old.created_at - timedelta(days=366)
    db.session.commit()
    assert commit(backer, project, 5_000).status == "held"


def test_an_accredited_investor_has_no_limit(make, db):
    project = live_equity_project(make, db, price_per_share=1 * USD, shares_offered=1_000_000)
    backer = investor(make, db, income=10_000 * USD, net_worth=10_000 * USD, accredited=True)
    assert commit(backer, project, 500_000).status == "held"


def test_the_limit_follows_the_configured_rule(app, make, db):
    project = live_equity_project(make, db, price_per_share=1 * USD, shares_offered=100_000)
    backer = limited_investor(make, db)
    saved = app.config["INVESTMENT_LIMIT_LOW_RATE_BPS"]
    app.config["INVESTMENT_LIMIT_LOW_RATE_BPS"] = 1_000  # 10%: $10,000
    try:
        assert commit(backer, project, 10_000).status == "held"
    finally:
        app.config["INVESTMENT_LIMIT_LOW_RATE_BPS"] = saved
