"""The cap on an offering's investors, the issuer cap, and progress notices (items 6 and 7)."""

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from crowdfund import ledger
from crowdfund.errors import Conflict
from crowdfund.models import EquityOffering, OutboxMessage, utcnow
from crowdfund.services import campaigns
from crowdfund.workflows import cancel, checkout
from tests.api.conftest import error_of
from tests.support.builders import charges, investor, live_equity_project, live_reward_project


def commit(backer, project, shares):
    return checkout.place_pledge(
        backer,
        project,
        idempotency_key=secrets.token_urlsafe(16),
        payment_method="pm_card_visa",
        shares=shares,
        acknowledge_risks=True,
    )


# -- MAX_INVESTORS_PER_OFFERING ---------------------------------------------------------------------


@pytest.mark.parametrize("key", ["us_reg_cf", "eu_ecsp", "cn"])
def test_the_third_investor_is_refused_when_two_are_allowed(api, make, db, rulebook, key):
    rulebook(key, MAX_INVESTORS_PER_OFFERING=2)
    project = live_equity_project(make, db)
    first, second, third = (investor(make, db) for _ in range(3))
    held = [commit(first, project, 10), commit(second, project, 10)]
    refused = api.post(
        f"/projects/{project.id}/pledges",
        {"shares": 10, "acknowledge_risks": True, "payment_method": "pm_card_visa"},
        token=api.token_for(third),
    )
    assert refused.status_code == 409 and error_of(refused)["code"] == "investor_cap_reached"
    assert "at most 2 investors" in error_of(refused)["message"]
    assert charges(db) == 2
    assert db.session.get(EquityOffering, project.equity.id).shares_committed == 20

    assert commit(first, project, 5).status == "held"  # an investor already in may add to it
    cancel.cancel_pledge(second, held[1].id)  # a place freed
    assert commit(third, project, 10).status == "held"
    assert ledger.verify() == []


def test_china_allows_200_investors_by_default(rulebook, app):
    from crowdfund.services import offerings

    rulebook("cn")
    with app.app_context():
        assert offerings.rulebook().max_investors == 200


# -- the issuer cap: $5M over 12 months across the firm's offerings ---------------------------------


def offering(make, firm, *, price, shares, currency="USD"):
    """An approved offering of `shares` at `price` major units (set on the row: terms lock at approval)."""
    project = make.approved_project(firm=firm, kind="equity", currency=currency, goal="1000")
    project.equity.price_per_share = int(price) * 100
    project.equity.shares_offered = int(shares)
    make.db.session.commit()
    return project


def launch(make, project):
    campaigns.launch(make.founder_of(project), project, utcnow() + timedelta(days=30))
    make.db.session.commit()


def test_a_firm_cannot_offer_more_than_five_million_dollars_a_year(make, db):
    firm = make.firm()
    launch(make, offering(make, firm, price="100", shares="40000"))  # $4,000,000
    second = offering(make, firm, price="100", shares="10001")  # $1,000,100
    with pytest.raises(Conflict) as refused:
        launch(make, second)
    assert refused.value.code == "issuer_cap_exceeded"
    assert "$5,000,000.00" in refused.value.message and "$1,000,000.00 more" in refused.value.message
    db.session.rollback()
    launch(make, offering(make, firm, price="100", shares="10000"))  # exactly up to the cap
    other_firm = make.firm()
    launch(make, offering(make, other_firm, price="100", shares="40000"))  # another issuer's own cap


def test_the_issuer_cap_converts_other_currencies(make, db):
    firm = make.firm()
    launch(make, offering(make, firm, price="100", shares="200000", currency="CNY"))  # ¥20M = $2,828,374.25
    with pytest.raises(Conflict) as refused:
        launch(make, offering(make, firm, price="100", shares="22000"))  # $2.2M more
    assert refused.value.code == "issuer_cap_exceeded" and "2026-12-01" in refused.value.message


def test_china_has_no_issuer_cap_by_default(make, db, rulebook):
    rulebook("cn")
    firm = make.firm()
    launch(make, offering(make, firm, price="100", shares="100000"))
    launch(make, offering(make, firm, price="100", shares="100000"))


# -- progress notices at 50% and 100% of the target ------------------------------------------------


def notices(db, percent):
    return db.session.scalars(
        select(OutboxMessage.to_address).where(OutboxMessage.subject.like(f"%reached {percent}% of its target"))
    ).all()


def test_investors_are_told_at_half_and_at_the_target_once_each(make, db):
    project = live_equity_project(make, db, goal=100_000, shares_offered=100_000)  # $1,000 at $1 a share
    a, b, c = (investor(make, db) for _ in range(3))
    commit(a, project, 400)
    assert notices(db, 50) == []
    commit(b, project, 200)  # $600: past half
    assert sorted(notices(db, 50)) == sorted([a.email, b.email])
    held = commit(c, project, 400)  # $1,000: the target
    assert sorted(notices(db, 100)) == sorted([a.email, b.email, c.email])
    assert len(notices(db, 50)) == 2  # not again
    cancel.cancel_pledge(c, held.id)
    commit(c, project, 400)  # crosses 100% a second time: no second notice
    assert len(notices(db, 100)) == 3
    assert ledger.verify() == []


def test_a_reward_campaign_sends_no_progress_notice(make, db):
    project = live_reward_project(make, db, goal=10_000, tiers=[{"title": "All", "price": 10_000}])
    checkout.place_pledge(
        make.user(),
        project,
        idempotency_key=secrets.token_urlsafe(16),
        payment_method="pm_card_visa",
        tier_id=project.tiers[0].id,
    )
    assert notices(db, 100) == [] and notices(db, 50) == []
