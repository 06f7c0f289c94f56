"""Races on PostgreSQL: many backers at once, never oversold, never charged twice."""

import secrets

import pytest
from sqlalchemy import func, select

from crowdfund import ledger
from crowdfund.errors import Conflict, ValidationError
from crowdfund.extensions import db as _db
from crowdfund.models import EquityOffering, Pledge, Project, RewardTier, User
from crowdfund.workflows import cancel, checkout
from tests.support.builders import charges, investor, live_equity_project, live_reward_project, race

pytestmark = pytest.mark.postgres_only

RACERS = 50


def place(backer_id, project_id, **kwargs):
    """One backer's request, as a view would make it, in the thread's own session."""
    backer = _db.session.get(User, backer_id)
    project = _db.session.get(Project, project_id)
    kwargs.setdefault("idempotency_key", secrets.token_urlsafe(16))
    if kwargs.get("shares") is not None:
        kwargs.setdefault("acknowledge_risks", True)
    pledge = checkout.place_pledge(backer, project, payment_method="pm_card_visa", **kwargs)
    return pledge.id, pledge.status


def outcomes(results):
    won = [r for r in results if isinstance(r, tuple) and r[1] == "held"]
    sold_out = [r for r in results if isinstance(r, Conflict) and r.code == "sold_out"]
    other = [r for r in results if r not in won and r not in sold_out]
    return won, sold_out, other


def test_fifty_backers_race_for_the_last_ten_units(app, make, db):
    project = live_reward_project(make, db, tiers=[{"price": 5_000, "quantity": 15}])
    tier_id = project.tiers[0].id
    for _ in range(5):  # sell the first five the ordinary way
        place(make.user().id, project.id, tier_id=tier_id)
    backers = [make.user().id for _ in range(RACERS)]
    assert charges(db) == 5

    results = race(app, RACERS, lambda i, project_id=project.id: place(backers[i], project_id, tier_id=tier_id))

    won, sold_out, other = outcomes(results)
    assert other == []
    assert len(won) == 10 and len(sold_out) == RACERS - 10
    assert charges(db) == 15  # the losers were never charged
    db.session.expire_all()
    assert db.session.get(RewardTier, tier_id).sold == 15
    assert db.session.scalar(select(func.count()).select_from(Pledge).where(Pledge.status == "held")) == 15
    project = db.session.get(Project, project.id)
    assert (project.pledged_amount, project.backer_count) == (15 * 5_000, 15)
    assert ledger.balance(ledger.escrow_key(project)) == 15 * 5_000
    assert ledger.verify() == []


def test_fifty_investors_race_for_the_last_hundred_shares(app, make, db):
    project = live_equity_project(make, db, price_per_share=1_000, shares_offered=1_000)
    place(investor(make, db, accredited=True).id, project.id, shares=900)
    backers = [investor(make, db, accredited=True).id for _ in range(RACERS)]

    results = race(app, RACERS, lambda i, project_id=project.id: place(backers[i], project_id, shares=10))

    won, sold_out, other = outcomes(results)
    assert other == []
    assert len(won) == 10 and len(sold_out) == RACERS - 10
    assert charges(db) == 11
    db.session.expire_all()
    assert db.session.get(EquityOffering, project.equity.id).shares_committed == 1_000
    assert db.session.get(Project, project.id).pledged_amount == 1_000 * 1_000
    assert ledger.verify() == []


def test_a_double_submit_racing_itself_is_one_pledge_and_one_charge(app, make, db):
    project = live_reward_project(make, db)
    backer_id = make.user().id
    attempt = secrets.token_urlsafe(16)

    results = race(
        app, 10, lambda i, project_id=project.id: place(backer_id, project_id, amount=2_500, idempotency_key=attempt)
    )

    assert all(isinstance(r, tuple) for r in results), results
    assert len({pledge_id for pledge_id, _ in results}) == 1
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1
    assert charges(db) == 1
    db.session.expire_all()
    assert db.session.get(Project, project.id).pledged_amount == 2_500
    assert ledger.verify() == []


def test_one_backer_racing_past_the_per_backer_limit(app, make, db):
    project = live_reward_project(make, db, tiers=[{"price": 1_000, "quantity": 100, "per_backer_limit": 3}])
    backer_id = make.user().id
    tier_id = project.tiers[0].id

    results = race(app, 10, lambda i, project_id=project.id: place(backer_id, project_id, tier_id=tier_id))

    held = [r for r in results if isinstance(r, tuple) and r[1] == "held"]
    limited = [r for r in results if isinstance(r, ValidationError) and r.code == "per_backer_limit"]
    assert len(held) == 3 and len(limited) == 7
    assert charges(db) == 3
    db.session.expire_all()
    assert db.session.get(RewardTier, tier_id).sold == 3
    assert db.session.get(Project, project.id).backer_count == 1
    assert ledger.verify() == []


def test_one_investor_racing_past_the_investment_limit(app, make, db):
    project = live_equity_project(make, db, price_per_share=100, shares_offered=100_000)
    # $100,000 income, $50,000 net worth: a $5,000 limit, so two $2,000 commitments fit and a third does not.
    backer_id = investor(make, db, income=10_000_000, net_worth=5_000_000).id

    results = race(app, 8, lambda i, project_id=project.id: place(backer_id, project_id, shares=2_000))

    held = [r for r in results if isinstance(r, tuple) and r[1] == "held"]
    limited = [r for r in results if isinstance(r, ValidationError) and r.code == "investment_limit_exceeded"]
    assert len(held) == 2 and len(limited) == 6
    assert charges(db) == 2
    assert ledger.verify() == []


def test_cancels_and_new_pledges_at_once_keep_the_books_straight(app, make, db):
    project = live_reward_project(make, db, tiers=[{"price": 2_000, "quantity": 30}])
    tier_id = project.tiers[0].id
    backers = [make.user().id for _ in range(20)]
    first = [place(backers[i], project.id, tier_id=tier_id)[0] for i in range(10)]
    project_id = project.id  # read here: the test's session is not for the racing threads

    def work(i):
        if i < 10:
            backer = _db.session.get(User, backers[i])
            return cancel.cancel_pledge(backer, first[i]).status
        return place(backers[i], project_id, tier_id=tier_id)[1]

    results = race(app, 20, work)

    assert results == ["cancelled"] * 10 + ["held"] * 10
    db.session.expire_all()
    assert db.session.get(RewardTier, tier_id).sold == 10
    project = db.session.get(Project, project.id)
    assert (project.pledged_amount, project.backer_count) == (10 * 2_000, 10)
    assert ledger.verify() == []
