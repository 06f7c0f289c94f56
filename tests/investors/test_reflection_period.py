"""eu_ecsp: a commitment may be revoked during its reflection period, even after the cut-off."""

import secrets
from datetime import timedelta

import pytest

from crowdfund import ledger
from crowdfund.errors import Conflict
from crowdfund.models import Pledge, Project, utcnow
from crowdfund.workflows import cancel, checkout
from tests.support.builders import investor, live_equity_project, refunds


def commitment_near_the_deadline(make, db, *, made_ago):
    """A commitment made `made_ago`, to an offering now 47 hours from its deadline (past the 48-hour cut-off)."""
    project = live_equity_project(make, db, currency="EUR", deadline_in=timedelta(days=10))
    backer = investor(make, db, currency="EUR")
    pledge = checkout.place_pledge(
        backer,
        project,
        idempotency_key=secrets.token_urlsafe(16),
        payment_method="pm_card_visa",
        shares=10,
        acknowledge_risks=True,
    )
    pledge = db.session.get(Pledge, pledge.id)
    pledge.created_at = utcnow() - made_ago
    db.session.get(Project, project.id).deadline = utcnow() + timedelta(hours=47)
    db.session.commit()
    return backer, pledge


def test_revoked_inside_the_reflection_period_after_the_cut_off_and_refunded(api, make, db, rulebook):
    rulebook("eu_ecsp")
    backer, pledge = commitment_near_the_deadline(make, db, made_ago=timedelta(days=3))
    token = api.token_for(backer)
    shown = api.get(f"/pledges/{pledge.id}", token=token).get_json()
    assert shown["cancel_until"] is not None  # the reflection period, not the (passed) cut-off
    cancelled = api.post(f"/pledges/{pledge.id}/cancel", token=token)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert refunds(db) == 1
    assert ledger.verify() == []


def test_after_the_reflection_period_the_cut_off_holds(make, db, rulebook):
    rulebook("eu_ecsp")
    backer, pledge = commitment_near_the_deadline(make, db, made_ago=timedelta(days=5))
    with pytest.raises(Conflict) as refused:
        cancel.cancel_pledge(backer, pledge.id)
    assert refused.value.code == "cancel_window_closed"
    assert ledger.verify() == []


def test_reg_cf_has_no_reflection_period(make, db, rulebook):
    rulebook("us_reg_cf")
    backer, pledge = commitment_near_the_deadline(make, db, made_ago=timedelta(hours=1))
    with pytest.raises(Conflict):
        cancel.cancel_pledge(backer, pledge.id)


def test_the_page_states_the_reflection_period(client, rulebook):
    rulebook("eu_ecsp")
    assert "for 4 days after making it" in client.get("/how-investing-works").get_data(as_text=True)
    rulebook("us_reg_cf")
    assert "after making it" not in client.get("/how-investing-works").get_data(as_text=True)
