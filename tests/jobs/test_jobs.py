"""The jobs runner without a broker: jobs run in-process, right away, in a session of their own."""

import pytest
from sqlalchemy import func, select

from crowdfund import after_commit, jobs
from crowdfund.extensions import db as _db
from crowdfund.jobs import UnknownJob, enqueue, job, periodic_jobs
from crowdfund.models import OutboxMessage, User


@job("test_count_users")
def count_users():
    return _db.session.scalar(select(func.count()).select_from(User))


@job("test_queue_mail")
def queue_mail():
    _db.session.add(
        OutboxMessage(dedupe_key="job:1", to_address="ann@example.com", subject="From a job", body_text="Hello\n")
    )
    _db.session.commit()
    return after_commit.run(), after_commit.run()


def test_enqueue_without_a_broker_runs_the_job_now(app, db, smtp_server):
    db.session.add(OutboxMessage(dedupe_key="t:1", to_address="bo@example.com", subject="Hi", body_text="Hello\n"))
    db.session.commit()

    result = enqueue("deliver_mail")

    assert result == {"sent": 1, "failed": 0, "gave_up": 0, "stopped": None}
    assert [m["Subject"] for m in smtp_server.messages] == ["Hi"]


def test_a_job_that_queued_mail_starts_its_delivery_after_its_commit(app, db, smtp_server):
    assert enqueue("test_queue_mail") == ({"sweeps": ["deliver_mail"]}, {})  # the second: nothing new was queued
    assert [m["Subject"] for m in smtp_server.messages] == ["From a job"]


def test_a_job_works_in_its_own_session_and_never_commits_the_callers_work(app, db, make):
    make.user()
    db.session.add(User(email="pending@example.com", name="Not yet", password_hash="x"))

    assert enqueue("test_count_users") == 1  # the caller's unflushed user is not the job's business
    assert enqueue("deliver_mail")["sent"] == 0  # a job that commits...
    db.session.rollback()  # ...did not commit what the caller had pending

    assert db.session.scalar(select(User).where(User.email == "pending@example.com")) is None


def test_an_unknown_job_is_refused_by_name(app, db):
    with pytest.raises(UnknownJob, match="No job is registered as 'close_due_campaign'.*deliver_mail"):
        enqueue("close_due_campaign")


def test_two_different_jobs_cannot_share_a_name():
    def another(): ...

    with pytest.raises(ValueError, match="Two jobs are called 'deliver_mail'"):
        job("deliver_mail")(another)
    assert jobs.get("deliver_mail").__module__ == "crowdfund.jobs.mail"


def test_periodic_jobs_use_the_configured_intervals(app, monkeypatch):
    def close_due_campaigns(): ...

    monkeypatch.setitem(jobs._REGISTRY, "close_due_campaigns", close_due_campaigns)
    config = dict(app.config, SCHEDULER_INTERVAL=7, PLEDGE_RECONCILE_INTERVAL=30)
    others = {
        "deliver_mail": 60.0,
        "announce_updates": 60.0,
        "announce_goals": 60.0,
        "send_reminders": 300.0,
        "reconcile_pledges": 30.0,
        "expire_reconfirmations": 60.0,
        "deliver_sandbox_webhooks": 5.0,
        "reconcile_books": 86400.0,
        "resume_settlements": 3600.0,
        "sweep_deliveries": 3600.0,  # DELIVERY_SWEEP_INTERVAL
    }
    assert dict(periodic_jobs(config)) == {**others, "close_due_campaigns": 7.0}

    monkeypatch.delitem(jobs._REGISTRY, "close_due_campaigns")
    assert dict(periodic_jobs(config)) == others  # not until it exists
