"""The 12-month limit holds across currencies, under every rulebook (issue 24, item 1)."""

import secrets

import pytest

from crowdfund import ledger
from crowdfund.errors import ValidationError
from crowdfund.models import Pledge
from crowdfund.services import investors
from crowdfund.workflows import checkout
from tests.support.builders import charges, investor, live_equity_project


def commit(backer, project, shares):
    return checkout.place_pledge(
        backer,
        project,
        idempotency_key=secrets.token_urlsafe(16),
        payment_method="pm_card_visa",
        shares=shares,
        acknowledge_risks=True,
    )


def no_income_profile(backer, db, currency):
    investors.save_profile(
        backer,
        {
            "currency": currency,
            "annual_income": 0,
            "net_worth": 0,
            "accredited": False,
            "other_investments_12m": 0,
            "risk_acknowledged": True,
        },
    )
    db.session.commit()


@pytest.mark.parametrize("key", ["us_reg_cf", "eu_ecsp", "cn"])
def test_switching_the_profile_currency_gains_nothing(make, db, rulebook, key):
    rulebook(key)
    in_yuan = live_equity_project(make, db, currency="CNY", price_per_share=100, shares_offered=1_000_000)
    in_dollars = live_equity_project(make, db, currency="USD", price_per_share=100, shares_offered=1_000_000)
    in_yen = live_equity_project(make, db, currency="JPY", price_per_share=1, shares_offered=10_000_000)
    backer = investor(make, db, currency="CNY", income=0, net_worth=0)

    # The whole limit, in yuan.
    full = investors.allowance(backer, investors.get_profile(backer), "CNY").remaining
    assert commit(backer, in_yuan, full // 100).status == "held"

    # The profile now says dollars, then yen: what was committed in yuan still counts.
    for currency, project, shares in (("USD", in_dollars, 1), ("JPY", in_yen, 200)):
        no_income_profile(backer, db, currency)
        with pytest.raises(ValidationError) as refused:
            commit(backer, project, shares)
        assert refused.value.code == "investment_limit_exceeded"
        assert "reference rates of 2026-12-01" in refused.value.message
    assert db.session.query(Pledge).count() == 1 and charges(db) == 1
    assert ledger.verify() == []


@pytest.mark.parametrize(
    "key, currency, floor", [("us_reg_cf", "USD", 250_000), ("eu_ecsp", "EUR", 100_000), ("cn", "CNY", 2_000_000)]
)
def test_the_floor_is_the_same_money_in_every_currency(make, db, rulebook, key, currency, floor):
    rulebook(key)
    backer = investor(make, db, currency="JPY", income=0, net_worth=0)
    profile = investors.get_profile(backer)
    assert investors.allowance(backer, profile, currency).limit == floor
    in_yen = investors.allowance(backer, profile, "JPY").limit
    assert in_yen > 100_000  # not "2,500 yen": the floor converted at about 155 yen to the dollar
    assert investors.allowance(backer, profile, "JPY").rates_as_of.isoformat() == "2026-12-01"


def test_commitments_in_other_currencies_count_converted(make, db, rulebook):
    rulebook("us_reg_cf")
    # Income $100,000, net worth $50,000: limit 5% of $100,000 = $5,000.
    in_dollars = live_equity_project(make, db, currency="USD", price_per_share=100, shares_offered=100_000)
    in_euros = live_equity_project(make, db, currency="EUR", price_per_share=100, shares_offered=100_000)
    backer = investor(make, db, income=100_000_00, net_worth=50_000_00)
    commit(backer, in_euros, 2_363)  # €2,363.00 = $2,500.00 at 0.9452 (rounded up)
    with pytest.raises(ValidationError) as refused:
        commit(backer, in_dollars, 2_501)
    assert "You can invest $2,500.00 more" in refused.value.message
    assert commit(backer, in_dollars, 2_500).status == "held"
    assert ledger.verify() == []
