"""Races on PostgreSQL: many backers after the last add-ons at once, by new pledges and by
changes of held ones; the stock is never oversold and the losers never charged."""

import secrets

import pytest
from sqlalchemy import func, select

from crowdfund import ledger
from crowdfund.errors import Conflict
from crowdfund.extensions import db as _db
from crowdfund.models import Pledge, Project, RewardAddOn, User
from crowdfund.services.projects import add_ons
from crowdfund.workflows import checkout, pledge_change
from tests.support.builders import charges, live_reward_project, race

pytestmark = pytest.mark.postgres_only

RACERS = 30


def mug(make, db, project, quantity):
    add_on = add_ons.add_add_on(make.founder_of(project), project, {"title": "Mug", "price": 700, "quantity": quantity})
    db.session.commit()
    return add_on.id


def place(backer_id, project_id, tier_id, add_on_id):
    backer, project = _db.session.get(User, backer_id), _db.session.get(Project, project_id)
    pledge = checkout.place_pledge(
        backer,
        project,
        idempotency_key=secrets.token_urlsafe(16),
        payment_method="pm_card_visa",
        tier_id=tier_id,
        add_ons=[{"id": add_on_id, "quantity": 1}] if add_on_id else None,
    )
    return pledge.id, pledge.status


def test_thirty_backers_race_for_the_last_five_add_ons(app, make, db):
    project = live_reward_project(make, db, tiers=[{"price": 5_000, "quantity": None}])
    tier_id, add_on_id = project.tiers[0].id, mug(make, db, project, 5)
    backers = [make.user().id for _ in range(RACERS)]

    results = race(app, RACERS, lambda i, pid=project.id: place(backers[i], pid, tier_id, add_on_id))

    won = [r for r in results if isinstance(r, tuple) and r[1] == "held"]
    sold_out = [r for r in results if isinstance(r, Conflict) and r.code == "sold_out"]
    assert len(won) == 5 and len(sold_out) == RACERS - 5, results
    assert charges(db) == 5
    db.session.expire_all()
    assert db.session.get(RewardAddOn, add_on_id).sold == 5
    assert db.session.get(Project, project.id).pledged_amount == 5 * 5_700
    assert ledger.verify() == []


def test_backers_adding_the_last_add_ons_to_held_pledges_at_once(app, make, db):
    project = live_reward_project(make, db, tiers=[{"price": 5_000, "quantity": None}])
    tier_id, add_on_id = project.tiers[0].id, mug(make, db, project, 3)
    backers = [make.user().id for _ in range(12)]
    pledges = [place(b, project.id, tier_id, None)[0] for b in backers]

    def change(i):
        user = _db.session.get(User, backers[i])
        return pledge_change.change_pledge(user, pledges[i], {"add_ons": [{"id": add_on_id, "quantity": 1}]}).amount

    results = race(app, len(backers), change)

    assert sorted(r for r in results if isinstance(r, int)) == [5_700] * 3
    assert all(isinstance(r, Conflict) and r.code == "sold_out" for r in results if not isinstance(r, int)), results
    db.session.expire_all()
    assert db.session.get(RewardAddOn, add_on_id).sold == 3
    held = db.session.scalar(select(func.sum(Pledge.amount)).where(Pledge.status == "held"))
    assert db.session.get(Project, project.id).pledged_amount == held == 12 * 5_000 + 3 * 700
    assert ledger.verify() == []
