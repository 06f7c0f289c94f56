"""With CELERY_BROKER_URL set, jobs go to the broker (the local Redis) instead of running here.

No worker runs: the tests read the task straight off the Redis list of a queue of their
own (in database 15), then run it the way a worker would, through the Celery task.
"""

import base64
import json
import sys

import pytest
from sqlalchemy import select

from crowdfund.extensions import db as _db
from crowdfund.jobs import enqueue
from crowdfund.jobs.celery_app import get_celery
from crowdfund.models import OutboxMessage
from tests.support import outbox_rows as rows
from tests.support.celery_broker import REDIS_URL, send_jobs_to


def tasks_in(client, queue_name):
    found = []
    for raw in client.lrange(queue_name, 0, -1):
        envelope = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
        found.append((envelope["headers"]["task"], args, kwargs))
    return found


def send_mail_jobs_to(monkeypatch, app, queue_name, smtp_server):
    """Jobs to `queue_name`, and mail, when a test runs a delivery task itself, to the test's SMTP server."""
    send_jobs_to(monkeypatch, app, queue_name)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.port)


def test_enqueue_sends_a_celery_task_and_runs_nothing_here(app, db, smtp_server, redis_queue, monkeypatch):
    client, queue_name = redis_queue
    send_jobs_to(monkeypatch, app, queue_name)
    db.session.add(OutboxMessage(dedupe_key="t:1", to_address="bo@example.com", subject="Hi", body_text="Hello\n"))
    db.session.commit()

    enqueue("deliver_mail", limit=5)

    assert tasks_in(client, queue_name) == [("crowdfund.deliver_mail", [], {"limit": 5})]
    assert smtp_server.messages == []  # nothing was delivered in-process


def test_the_task_runs_in_an_app_context_and_commits_itself(app, db, smtp_server, redis_queue, monkeypatch):
    send_jobs_to(monkeypatch, app, redis_queue.name)
    db.session.add(OutboxMessage(dedupe_key="t:1", to_address="bo@example.com", subject="Hi", body_text="Hello\n"))
    db.session.commit()

    # What a worker does with the task, minus the broker: Celery calls the task, which
    # enters the Flask app context, delivers and commits.
    result = get_celery(app).tasks["crowdfund.deliver_mail"].apply(kwargs={"limit": 5})

    assert result.get() == {"sent": 1, "failed": 0, "gave_up": 0, "stopped": None}
    assert len(smtp_server.messages) == 1
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage)).one().sent_at is not None


def test_a_request_that_queued_mail_sends_the_delivery_task_after_commit(
    make, db, outbox_web_app, smtp_server, redis_queue, monkeypatch
):
    client, queue_name = redis_queue
    send_mail_jobs_to(monkeypatch, outbox_web_app, queue_name, smtp_server)
    pledge = rows.pledge(make, rows.project(make))

    assert outbox_web_app.test_client().post(f"/_test/pledges/{pledge.id}/receipt").status_code == 200
    assert outbox_web_app.test_client().post(f"/_test/pledges/{pledge.id}/receipt?outcome=refuse").status_code == 422

    assert tasks_in(client, queue_name) == [("crowdfund.deliver_mail", [], {})]  # once: the refused one sent none
    assert smtp_server.messages == []
    assert db.session.scalars(select(OutboxMessage)).one().sent_at is None  # the worker will send it


def test_mail_queued_while_a_delivery_run_waits_in_the_queue_sends_no_second_run(
    make, db, outbox_web_app, smtp_server, redis_queue, monkeypatch
):
    client, queue_name = redis_queue
    send_mail_jobs_to(monkeypatch, outbox_web_app, queue_name, smtp_server)
    project = rows.project(make)
    first, second, third = (rows.pledge(make, project) for _ in range(3))
    web = outbox_web_app.test_client()

    assert web.post(f"/_test/pledges/{first.id}/receipt").status_code == 200
    assert web.post(f"/_test/pledges/{second.id}/receipt").status_code == 200
    assert tasks_in(client, queue_name) == [("crowdfund.deliver_mail", [], {})]  # the queued run will see both

    # A worker takes the run: it clears the mark before it reads the outbox, and sends both.
    client.lpop(queue_name)
    with outbox_web_app.app_context():
        get_celery(outbox_web_app).tasks["crowdfund.deliver_mail"].apply()
    assert len(smtp_server.messages) == 2

    assert web.post(f"/_test/pledges/{third.id}/receipt").status_code == 200
    assert tasks_in(client, queue_name) == [("crowdfund.deliver_mail", [], {})]  # a run of its own


def test_a_delivery_run_that_hit_its_limit_queues_the_next(app, db, smtp_server, redis_queue, monkeypatch):
    client, queue_name = redis_queue
    send_mail_jobs_to(monkeypatch, app, queue_name, smtp_server)
    for n in range(3):
        db.session.add(
            OutboxMessage(dedupe_key=f"t:{n}", to_address="bo@example.com", subject="Hi", body_text="Hello\n")
        )
    db.session.commit()

    get_celery(app).tasks["crowdfund.deliver_mail"].apply(kwargs={"limit": 2})

    assert len(smtp_server.messages) == 2
    assert tasks_in(client, queue_name) == [("crowdfund.deliver_mail", [], {})]  # the third is next
    get_celery(app).tasks["crowdfund.deliver_mail"].apply(kwargs={"limit": 2})
    assert len(smtp_server.messages) == 3
    assert len(tasks_in(client, queue_name)) == 1  # under its limit: nothing more queued


def test_without_a_redis_broker_or_with_redis_down_every_sweep_is_sent(app, monkeypatch):
    from crowdfund.jobs.celery_app import mark_sweeps_queued

    both = ["deliver_mail", "deliver_sandbox_webhooks"]
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "amqp://guest@127.0.0.1:5672//")
    assert mark_sweeps_queued(app, both) == mark_sweeps_queued(app, both) == both
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    assert mark_sweeps_queued(app, both) == mark_sweeps_queued(app, both) == both


def test_one_commit_marks_its_sweeps_in_one_round_trip_and_sends_each_once(app, redis_queue, monkeypatch):
    from crowdfund.jobs.celery_app import mark_sweeps_queued

    client, queue_name = redis_queue
    send_jobs_to(monkeypatch, app, queue_name)
    assert mark_sweeps_queued(app, ["deliver_mail"]) == ["deliver_mail"]
    # the mail run is queued already: only the webhooks' run is new
    assert mark_sweeps_queued(app, ["deliver_mail", "deliver_sandbox_webhooks"]) == ["deliver_sandbox_webhooks"]
    assert mark_sweeps_queued(app, ["deliver_mail", "deliver_sandbox_webhooks"]) == []


def test_a_commit_that_queued_mail_and_asked_for_another_sweep_marks_both_in_one_round_trip(
    app, make, db, redis_queue, monkeypatch
):
    from crowdfund import after_commit
    from crowdfund.jobs import celery_app
    from crowdfund.services import notifications

    client, queue_name = redis_queue
    send_jobs_to(monkeypatch, app, queue_name)
    real, trips = celery_app.mark_sweeps_queued, []
    monkeypatch.setattr(
        celery_app, "mark_sweeps_queued", lambda app, names: trips.append(list(names)) or real(app, names)
    )
    notifications.pledge_receipt(rows.pledge(make, rows.project(make)))
    after_commit.start_sweep("deliver_sandbox_webhooks")
    db.session.commit()

    after_commit.run()

    assert trips == [["deliver_mail", "deliver_sandbox_webhooks"]]
    assert sorted(tasks_in(client, queue_name)) == [
        ("crowdfund.deliver_mail", [], {}),
        ("crowdfund.deliver_sandbox_webhooks", [], {}),
    ]


def test_an_update_starts_its_announcement_after_the_commit_and_never_after_a_rollback(
    app, make, db, redis_queue, monkeypatch
):
    from crowdfund import after_commit
    from crowdfund.services import updates

    client, queue_name = redis_queue
    send_jobs_to(monkeypatch, app, queue_name)
    project = rows.project(make)
    founder = make.founder_of(project)

    updates.post_update(founder, project, "Withdrawn", "Never mind.")
    db.session.rollback()
    assert after_commit.run() == {}
    assert tasks_in(client, queue_name) == []

    updates.post_update(founder, project, "Posted", "Tins are here.")
    db.session.commit()
    assert tasks_in(client, queue_name) == []  # not before the commit's hooks run
    after_commit.run()
    assert tasks_in(client, queue_name) == [("crowdfund.announce_updates", [], {})]


def test_only_a_sweep_can_be_coalesced(app):
    from crowdfund.jobs import enqueue_sweep

    with pytest.raises(ValueError, match="'settle_campaign' is not a sweep"):
        enqueue_sweep("settle_campaign")


def test_beat_schedule(app, monkeypatch):
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "SCHEDULER_INTERVAL", 5)
    monkeypatch.setitem(app.extensions, "celery", None)

    schedule = get_celery(app).conf.beat_schedule

    assert schedule["deliver-mail"] == {"task": "crowdfund.deliver_mail", "schedule": 60.0}
    if "close-due-campaigns" in schedule:  # once the campaigns job is registered
        assert schedule["close-due-campaigns"] == {"task": "crowdfund.close_due_campaigns", "schedule": 5.0}


def test_worker_entry_module_gives_celery_a_configured_app(database_url, tmp_path, monkeypatch):
    """`celery -A crowdfund.jobs.celery_worker worker` finds its app the way `find_app` does."""
    from celery.app.utils import find_app

    module = "crowdfund.jobs.celery_worker"
    for name, value in {
        "CROWDFUND_CONFIG": "testing",
        "DATABASE_URL": database_url,
        "CROWDFUND_INSTANCE_PATH": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)

    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(RuntimeError, match="Set CELERY_BROKER_URL"):
        find_app(module)

    monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.setenv("FLASK_CELERY_BROKER_URL", json.dumps(REDIS_URL))
    celery = find_app(module)
    try:
        assert type(celery).__name__ == "Celery"
        assert (celery.conf.broker_url, celery.conf.task_default_queue) == (REDIS_URL, "crowdfund")
        assert "crowdfund.deliver_mail" in celery.tasks
        assert celery.conf.beat_schedule["deliver-mail"]["task"] == "crowdfund.deliver_mail"
    finally:
        with sys.modules[module].flask_app.app_context():
            _db.engine.dispose()
        monkeypatch.delitem(sys.modules, module, raising=False)
