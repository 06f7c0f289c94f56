"""Launching inside the allowed window, cancelling and suspending."""

from datetime import timedelta

import pytest

from crowdfund.errors import IllegalTransition, PermissionDenied, ValidationError
from crowdfund.models import Project, utcnow
from crowdfund.services import campaigns
from crowdfund.services.transitions import history


@pytest.fixture()
def small_window(app, monkeypatch):
    monkeypatch.setitem(app.config, "CAMPAIGN_MIN_DURATION", 60)
    monkeypatch.setitem(app.config, "CAMPAIGN_MAX_DURATION", 3600)


@pytest.mark.parametrize("seconds", [60, 61, 3599, 3600])
def test_a_deadline_just_inside_the_window_launches(db, make, small_window, seconds):
    project = make.approved_project()
    now = utcnow()
    campaigns.launch(make.founder_of(project), project, now + timedelta(seconds=seconds), now=now)
    db.session.commit()
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert project.status == "live"
    assert project.deadline == now + timedelta(seconds=seconds) and project.deadline.tzinfo is not None
    assert project.launched_at == now
    assert history(project)[-1].to_state == "live"


@pytest.mark.parametrize(
    "seconds,words",
    [
        (59, "too soon: a campaign runs at least 1 minute"),
        (-10, "too soon"),
        (3601, "too far away: a campaign runs at most 1 hour"),
    ],
)
def test_a_deadline_just_outside_the_window_is_refused(db, make, small_window, seconds, words):
    project = make.approved_project()
    now = utcnow()
    with pytest.raises(ValidationError) as refused:
        campaigns.launch(make.founder_of(project), project, now + timedelta(seconds=seconds), now=now)
    assert words in refused.value.fields["deadline"]
    db.session.rollback()
    project = db.session.get(Project, project.id)
    assert (project.status, project.deadline, project.launched_at) == ("approved", None, None)


def test_the_default_window_is_in_days(db, make):
    project = make.approved_project()
    with pytest.raises(ValidationError) as refused:
        campaigns.launch(make.founder_of(project), project, utcnow() + timedelta(days=61))
    assert refused.value.message == "The deadline is too far away: a campaign runs at most 60 days."


def test_only_approved_projects_launch_and_only_by_their_firm(db, make):
    draft = make.project()
    with pytest.raises(IllegalTransition) as refused:
        campaigns.launch(make.founder_of(draft), draft, utcnow() + timedelta(days=3))
    assert refused.value.message == "This project is a draft, so it cannot become live."
    db.session.rollback()
    assert db.session.get(Project, draft.id).deadline is None
    approved = make.approved_project()
    with pytest.raises(PermissionDenied):
        campaigns.launch(make.user(), approved, utcnow() + timedelta(days=3))


@pytest.mark.parametrize("start", ["approved", "live"])
def test_the_founder_cancels_with_a_note(db, make, start):
    project = make.approved_project() if start == "approved" else make.live_project()
    owner = make.founder_of(project)
    with pytest.raises(ValidationError) as refused:
        campaigns.cancel(owner, project, "")
    assert "note" in refused.value.fields
    db.session.rollback()
    campaigns.cancel(owner, project, "Our supplier closed.")
    db.session.commit()
    assert project.status == "cancelled"
    assert (project.closed_at is not None) == (start == "live")
    row = history(project)[-1]
    assert (row.from_state, row.to_state, row.actor_id, row.note) == (
        start,
        "cancelled",
        owner.id,
        "Our supplier closed.",
    )


def test_a_draft_cannot_be_cancelled(db, make):
    project = make.project()
    with pytest.raises(IllegalTransition) as refused:
        campaigns.cancel(make.founder_of(project), project, "bye")
    assert "a draft, so it cannot become cancelled" in refused.value.message


def test_an_admin_suspends_a_live_campaign(db, make):
    project = make.live_project()
    admin = make.admin()
    with pytest.raises(PermissionDenied):
        campaigns.suspend(make.founder_of(project), project, "hiding")
    db.session.rollback()
    with pytest.raises(ValidationError):
        campaigns.suspend(admin, project, " ")
    db.session.rollback()
    campaigns.suspend(admin, project, "Reports of fraud.")
    db.session.commit()
    assert project.status == "suspended" and project.closed_at is not None
    assert history(project)[-1].note == "Reports of fraud."


def test_only_live_campaigns_are_suspended(db, make):
    project = make.approved_project()
    with pytest.raises(IllegalTransition) as refused:
        campaigns.suspend(make.admin(), project, "why")
    assert refused.value.message == "This project is approved, so it cannot become suspended."
