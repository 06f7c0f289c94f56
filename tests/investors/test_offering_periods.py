"""Offering periods: the equity minimum at launch, and closing early (issue 24, item 2)."""

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from crowdfund import ledger
from crowdfund.errors import Conflict, PermissionDenied, ValidationError
from crowdfund.models import OutboxMessage, Project, ProjectEdit, utcnow
from crowdfund.services import campaigns, offerings
from crowdfund.workflows import cancel, checkout
from tests.api.conftest import error_of
from tests.support.builders import investor, live_equity_project, live_reward_project


def commit(backer, project, shares):
    return checkout.place_pledge(
        backer,
        project,
        idempotency_key=secrets.token_urlsafe(16),
        payment_method="pm_card_visa",
        shares=shares,
        acknowledge_risks=True,
    )


def iso(moment):
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def funded_offering(make, db, *, launched_days_ago=22, investors=2):
    """A live offering (goal $100) that two investors took past its target, launched long enough ago."""
    project = live_equity_project(make, db, goal=10_000, deadline_in=timedelta(days=30))
    project.launched_at = utcnow() - timedelta(days=launched_days_ago)
    db.session.commit()
    backers = [investor(make, db) for _ in range(investors)]
    held = [commit(backer, project, 60) for backer in backers]  # 2 x $60.00
    return db.session.get(Project, project.id), backers, held


def test_an_equity_offering_runs_at_least_21_days(make, db):
    project = make.approved_project(kind="equity")
    now = utcnow()
    with pytest.raises(ValidationError) as refused:
        campaigns.launch(make.founder_of(project), project, now + timedelta(days=20), now=now)
    assert refused.value.message == "The deadline is too soon: a campaign runs at least 21 days."
    campaigns.launch(make.founder_of(project), project, now + timedelta(days=21), now=now)
    assert project.status == "live"


def test_an_equity_draft_cannot_plan_a_shorter_run_than_the_rulebook(make, db):
    with pytest.raises(ValidationError) as refused:
        make.equity_project(duration_days="10")
    assert refused.value.fields["duration_days"] == "Enter a number of days from 21 to 60."
    assert make.equity_project(duration_days="21").duration_days == 21
    assert make.project(kind="reward", duration_days="10").duration_days == 10


def test_a_reward_campaign_keeps_its_own_minimum(make, db, rulebook):
    rulebook("us_reg_cf", EQUITY_CAMPAIGN_MIN_DURATION=3 * 24 * 3600)
    reward = make.approved_project(kind="reward")
    equity = make.approved_project(kind="equity")
    now = utcnow()
    campaigns.launch(make.founder_of(reward), reward, now + timedelta(days=2), now=now)
    with pytest.raises(ValidationError, match="at least 3 days"):
        campaigns.launch(make.founder_of(equity), equity, now + timedelta(days=2), now=now)


def test_closing_early_moves_the_deadline_and_tells_every_investor(api, make, db):
    project, backers, held = funded_offering(make, db)
    founder = make.founder_of(project)
    token = api.token_for(founder)
    new_deadline = (offerings.earliest_early_close() + timedelta(hours=1)).replace(microsecond=0)
    closed = api.post(f"/projects/{project.id}/close-early", {"deadline": iso(new_deadline)}, token=token)
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["deadline"] == iso(new_deadline)
    db.session.expire_all()
    assert db.session.get(Project, project.id).deadline == new_deadline

    mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.subject.like("%will close early%"))).all()
    assert sorted(m.to_address for m in mails) == sorted(b.email for b in backers)
    assert all("You may still cancel your commitment until" in m.body_text for m in mails)

    # The cancel window moved with the deadline.
    pledge = api.get(f"/pledges/{held[0].id}", token=api.token_for(backers[0])).get_json()
    assert pledge["cancel_until"] == iso(new_deadline - timedelta(hours=48))
    edit = db.session.scalar(select(ProjectEdit).where(ProjectEdit.project_id == project.id))
    assert edit.field == "deadline" and edit.user_id == founder.id
    assert ledger.verify() == []


def test_each_refusal_has_its_own_code(api, make, db):
    project, backers, _ = funded_offering(make, db)
    token = api.token_for(make.founder_of(project))
    soon = utcnow() + timedelta(days=2)
    refused = api.post(f"/projects/{project.id}/close-early", {"deadline": iso(soon)}, token=token)
    assert refused.status_code == 422 and error_of(refused)["code"] == "deadline_too_soon"
    assert "deadline" in error_of(refused)["fields"]
    later = project.deadline + timedelta(days=1)
    refused = api.post(f"/projects/{project.id}/close-early", {"deadline": iso(later)}, token=token)
    assert refused.status_code == 422 and error_of(refused)["code"] == "deadline_not_earlier"
    stranger = api.post(f"/projects/{project.id}/close-early", {"deadline": iso(soon)}, token=api.token_for(backers[0]))
    assert stranger.status_code == 403

    young, _, _ = funded_offering(make, db, launched_days_ago=3)
    refused = api.post(
        f"/projects/{young.id}/close-early",
        {"deadline": iso(young.deadline - timedelta(days=1))},
        token=api.token_for(make.founder_of(young)),
    )
    assert refused.status_code == 409 and error_of(refused)["code"] == "minimum_period_not_run"

    short, _, _ = funded_offering(make, db, investors=1)  # $60 of $100
    refused = api.post(
        f"/projects/{short.id}/close-early",
        {"deadline": iso(short.deadline - timedelta(days=1))},
        token=api.token_for(make.founder_of(short)),
    )
    assert refused.status_code == 409 and error_of(refused)["code"] == "target_not_reached"

    reward = live_reward_project(make, db)
    refused = api.post(
        f"/projects/{reward.id}/close-early",
        {"deadline": iso(reward.deadline)},
        token=api.token_for(make.founder_of(reward)),
    )
    assert refused.status_code == 409 and error_of(refused)["code"] == "not_an_offering"
    missing = api.post(f"/projects/{project.id}/close-early", {}, token=token)
    assert missing.status_code == 422
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.subject.like("%close early%"))) is None


def test_after_closing_early_cancelling_stops_48_hours_before_the_new_deadline(make, db):
    project, backers, held = funded_offering(make, db, investors=3)
    now = utcnow()
    new_deadline = offerings.add_business_days(now, 5) + timedelta(minutes=1)
    offerings.close_early(make.founder_of(project), project, new_deadline, now=now)
    db.session.commit()
    assert cancel.cancel_pledge(backers[0], held[0].id).status == "cancelled"  # still inside the window
    project = db.session.get(Project, project.id)
    project.deadline = utcnow() + timedelta(hours=47)  # time passes: inside the last 48 hours
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        cancel.cancel_pledge(backers[1], held[1].id)
    assert refused.value.code == "cancel_window_closed"
    assert ledger.verify() == []


def test_the_founder_form(client, login, make, db):
    project, _, _ = funded_offering(make, db)
    login(make.founder_of(project))
    page = client.get(f"/projects/{project.id}/close-early")
    assert page.status_code == 200 and "Close the offering early" in page.get_data(as_text=True)
    edit = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert f"/projects/{project.id}/close-early" in edit


def test_business_days_skip_the_weekend():
    from datetime import datetime, timezone

    friday = datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc)
    assert offerings.add_business_days(friday, 5) == datetime(2026, 12, 11, 10, 0, tzinfo=timezone.utc)
    assert offerings.add_business_days(friday, 1).weekday() == 0  # Monday


def test_a_stranger_cannot_close_early_through_the_service(make, db):
    project, backers, _ = funded_offering(make, db)
    with pytest.raises(PermissionDenied):
        offerings.close_early(backers[0], project, project.deadline - timedelta(days=1))
