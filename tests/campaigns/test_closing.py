"""Closing campaigns at their deadline: once, correctly, from the CLI, the scheduler and
from concurrent runners."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event

from crowdfund import create_app
from crowdfund.extensions import db as _db
from crowdfund.jobs import scheduler
from crowdfund.models import Project, StateChange, utcnow
from crowdfund.services.campaigns import close_due, next_deadline


def past(minutes=1):
    return utcnow() - timedelta(minutes=minutes)


def _status(db, project):
    db.session.expire_all()
    return db.session.get(Project, project.id).status


def test_successful_or_failed_by_the_held_total(db, make):
    reached = make.live_project(deadline=past(), goal="5000")
    exactly = make.live_project(deadline=past(), goal="5000")
    short = make.live_project(deadline=past(), goal="5000")
    running = make.live_project(goal="5000")
    reached.pledged_amount, exactly.pledged_amount, short.pledged_amount = 600_000, 500_000, 499_999
    running.pledged_amount = 900_000  # set directly: pledges are another feature's job
    db.session.commit()
    assert close_due() == 3
    db.session.commit()
    assert [_status(db, p) for p in (reached, exactly, short, running)] == [
        "successful",
        "successful",
        "failed",
        "live",
    ]
    closed = db.session.get(Project, short.id)
    assert closed.closed_at is not None
    row = db.session.query(StateChange).filter_by(entity_id=short.id, to_state="failed").one()
    assert row.actor_id is None and row.note == "Deadline reached: $4,999.99 raised, goal $5,000.00 not met."


def test_closing_twice_closes_once(db, make):
    project = make.live_project(deadline=past())
    assert close_due() == 1
    db.session.commit()
    first_closed_at = db.session.get(Project, project.id).closed_at
    assert close_due() == 0
    db.session.commit()
    assert db.session.query(StateChange).filter_by(entity_id=project.id, from_state="live").count() == 1
    assert db.session.get(Project, project.id).closed_at == first_closed_at


def test_a_deadline_exactly_now_is_due_and_a_later_one_is_not(db, make):
    project = make.live_project()
    assert close_due(now=project.deadline - timedelta(seconds=1)) == 0
    assert close_due(now=project.deadline) == 1


def test_the_cli_closes_due_campaigns_and_commits(app, db, make):
    make.live_project(deadline=past())
    make.live_project(deadline=past(2))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["campaigns", "close-due"])
    assert result.exit_code == 0 and "Closed 2 campaign(s)." in result.output
    again = runner.invoke(args=["campaigns", "close-due"])
    assert "Closed 0 campaign(s)." in again.output
    db.session.expire_all()
    assert {p.status for p in db.session.query(Project)} == {"failed"}


def test_next_deadline_is_the_earliest_live_one(db, make):
    assert next_deadline() is None
    later = make.live_project(deadline=utcnow() + timedelta(days=9))
    sooner = make.live_project(deadline=utcnow() + timedelta(days=3))
    assert next_deadline() == sooner.deadline != later.deadline


@pytest.mark.postgres_only
def test_concurrent_runners_close_each_campaign_once(app, db, make):
    """Runner A locks and closes everything but has not committed; runner B, meanwhile,
    skips the locked rows instead of closing them again (or waiting)."""
    ids = [make.live_project(deadline=past()).id for _ in range(4)]
    a_closed, b_done, results = threading.Event(), threading.Event(), {}

    def runner_a():
        with app.app_context():
            results["a"] = close_due()
            a_closed.set()
            results["b_did_not_wait"] = b_done.wait(5)  # B skips locked rows instead of blocking
            _db.session.commit()

    def runner_b():
        a_closed.wait(10)
        with app.app_context():
            results["b"] = close_due()
            _db.session.commit()
        b_done.set()

    threads = [threading.Thread(target=runner_a), threading.Thread(target=runner_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == {"a": 4, "b": 0, "b_did_not_wait": True}
    assert close_due() == 0
    db.session.expire_all()
    for project_id in ids:
        assert db.session.query(StateChange).filter_by(entity_id=project_id, from_state="live").count() == 1


@pytest.mark.postgres_only
def test_a_runner_with_a_stale_list_rechecks_each_row(app, db, make):
    """B reads the list of due ids while A's closing is uncommitted (so all still look live),
    and only reaches the rows after A committed: B must re-check, not close them again."""
    ids = [make.live_project(deadline=past()).id for _ in range(3)]
    a_closed, b_listed, a_committed, results = (threading.Event(), threading.Event(), threading.Event(), {})

    def runner_a():
        with app.app_context():
            results["a"] = close_due()
            a_closed.set()
            b_listed.wait(10)
            _db.session.commit()
            a_committed.set()

    def pause_before_locking(conn, cursor, statement, *args):
        if threading.current_thread().name == "runner-b" and "FOR UPDATE" in statement and not b_listed.is_set():
            b_listed.set()
            a_committed.wait(10)

    def runner_b():
        a_closed.wait(10)
        with app.app_context():
            results["b"] = close_due()
            _db.session.commit()

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", pause_before_locking)
    try:
        threads = [threading.Thread(target=runner_a), threading.Thread(target=runner_b, name="runner-b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    finally:
        event.remove(engine, "before_cursor_execute", pause_before_locking)
    assert b_listed.is_set() and results == {"a": 3, "b": 0}
    db.session.expire_all()
    for project_id in ids:
        assert db.session.query(StateChange).filter_by(entity_id=project_id, from_state="live").count() == 1


# --- the in-process scheduler --------------------------------------------------------


def test_no_scheduler_in_tests_unless_asked(app):
    assert "deadline_scheduler" not in app.extensions


def test_the_scheduler_closes_a_due_campaign_and_starts_once(db, make, database_url):
    project = make.live_project(deadline=past())
    db.session.commit()
    worker = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, SCHEDULER_ENABLED=True, SCHEDULER_INTERVAL=0.1)
    running = worker.extensions["deadline_scheduler"]
    try:
        second = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, SCHEDULER_ENABLED=True)
        assert "deadline_scheduler" not in second.extensions  # one per process
        give_up = time.monotonic() + 10
        while _status(db, project) != "failed" and time.monotonic() < give_up:
            db.session.commit()
            time.sleep(0.05)
        assert _status(db, project) == "failed"
    finally:
        running.stop()
        db.session.commit()
        with worker.app_context():
            _db.engine.dispose()
        with second.app_context():
            _db.engine.dispose()
    assert not running.thread.is_alive()


def test_the_scheduler_sleeps_until_the_next_deadline_or_the_interval(db, make, app):
    make.live_project(deadline=utcnow() + timedelta(days=2))
    db.session.commit()
    worker = scheduler.DeadlineScheduler(app)  # not started: one run by hand
    assert worker.run_once() == worker.interval == 5
    soon = make.live_project(deadline=utcnow() + timedelta(days=2))
    soon.deadline = utcnow() + timedelta(seconds=2)  # as if the deadline were near
    db.session.commit()
    assert 0 < worker.run_once() <= 2


def test_the_reloaders_watching_process_starts_no_scheduler(monkeypatch):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    monkeypatch.setattr("sys.argv", ["flask", "run", "--debug"])
    assert scheduler._reloader_parent()
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")  # the child that serves
    assert not scheduler._reloader_parent()
    monkeypatch.delenv("WERKZEUG_RUN_MAIN")
    monkeypatch.setattr("sys.argv", ["flask", "run", "--debug", "--no-reload"])
    assert not scheduler._reloader_parent()
