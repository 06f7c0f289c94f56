"""Under each rulebook, an investor from profile to commitment, cancel, early close and settlement."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowdfund import ledger
from crowdfund.models import Project, ShareHolding, utcnow
from crowdfund.services import offerings
from tests.api.conftest import error_of
from tests.investors.checks_support import complete_checks
from tests.support.builders import live_equity_project
from tests.support.settlement import close

RULEBOOK_CURRENCY = {"us_reg_cf": "USD", "eu_ecsp": "EUR", "cn": "CNY"}


@pytest.mark.parametrize("key", ["us_reg_cf", "eu_ecsp", "cn"])
def test_an_investor_from_profile_to_settlement(api, make, db, rulebook, key):
    rulebook(key)
    currency = RULEBOOK_CURRENCY[key]
    project = live_equity_project(
        make, db, currency=currency, goal=20_000, price_per_share=100, deadline_in=timedelta(days=30)
    )
    project.launched_at = utcnow() - timedelta(days=22)
    db.session.commit()
    pledges = f"/projects/{project.id}/pledges"
    investor, other = make.user(name="Ida"), make.user(name="Olu")
    token, other_token = api.token_for(investor), api.token_for(other)

    # The profile, in another currency than the offering's: the limit is converted, not refused.
    for who in (token, other_token):
        assert (
            api.put(
                "/me/investor-profile",
                {
                    "currency": "HKD",
                    "annual_income": 0,
                    "net_worth": 0,
                    "other_investments_12m": 0,
                    "risk_acknowledged": True,
                },
                token=who,
            ).status_code
            == 200
        )
        complete_checks(api, db, make, who, key)  # eu_ecsp: test and simulation; cn: an approved proof
    refused = api.post(pledges, {"shares": 100, "payment_method": "pm_card_visa"}, token=token)
    assert error_of(refused)["code"] == "risks_not_acknowledged"
    first = api.post(
        pledges, {"shares": 100, "acknowledge_risks": True, "payment_method": "pm_card_visa"}, token=token
    ).get_json()
    assert first["status"] == "held" and first["cancel_until"] is not None
    assert ledger.verify() == []

    # Cancelled inside the window: refunded.
    assert api.post(f"/pledges/{first['id']}/cancel", token=token).get_json()["status"] == "cancelled"
    assert ledger.verify() == []

    # Committed again, with another investor: the target is reached, and the founder closes early.
    for who in (token, other_token):
        placed = api.post(
            pledges, {"shares": 100, "acknowledge_risks": True, "payment_method": "pm_card_visa"}, token=who
        )
        assert placed.status_code == 201, placed.get_json()
    new_deadline = offerings.earliest_early_close() + timedelta(hours=1)
    offerings.close_early(make.founder_of(project), db.session.get(Project, project.id), new_deadline)
    db.session.commit()

    # Settled at the new deadline: shares registered, money released, books balanced.
    close(db, db.session.get(Project, project.id))
    assert db.session.get(Project, project.id).status == "successful"
    holders = db.session.scalars(select(ShareHolding.user_id).order_by(ShareHolding.user_id)).all()
    assert holders == sorted([investor.id, other.id])
    assert ledger.verify() == []
