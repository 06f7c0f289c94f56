"""Redis stopped under a running site: the page cache and the job broker are away. Pages
and pledges work as before, and their mail waits in the outbox to be delivered later.

(The rate limits' store is Redis too in production; its fallback is tested with the limits.)
"""

import re
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from crowdfund.extensions import db
from crowdfund.models import OutboxMessage, Pledge
from crowdfund.services import api_tokens
from tests.support import factories
from tests.support.builders import live_reward_project
from tests.support.live_server import signed_in

QUEUE = "crowdfund-outage-test"


def api_pledge(server, token, key):
    started = time.monotonic()
    response = requests.post(
        f"{server.url}/api/v1/projects/{server.project_id}/pledges",
        timeout=60,
        json={"tier_id": server.tier_id, "payment_method": "pm_card_visa"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )
    return response, time.monotonic() - started


def web_pledge(server, browser):
    back = f"{server.url}/p/{server.slug}/back"
    form = browser.get(back, timeout=60)
    assert form.status_code == 200

    def hidden(name):
        return re.search(rf'name="{name}" type="hidden" value="([^"]+)"', form.text).group(1)

    return browser.post(
        back,
        timeout=60,
        data={
            "csrf_token": hidden("csrf_token"),
            "idempotency_key": hidden("idempotency_key"),
            "tier_id": str(server.tier_id),
            "quantity": "1",
            "payment_method": "pm_card_visa",
        },
    )


def test_with_redis_stopped_pages_and_pledges_work_and_mail_waits(live, redis_server):
    server = live(
        PAGE_CACHE_SECONDS=10,
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=redis_server.url(2),
        CELERY_BROKER_URL=redis_server.url(1),
        CELERY_TASK_DEFAULT_QUEUE=QUEUE,
    )
    app = server.app
    with app.app_context():
        make = factories.Factories(db)
        project = live_reward_project(make, db, tiers=[{"title": "Lantern", "price": 5_000, "quantity": 100}])
        server.project_id, server.slug, server.tier_id = project.id, project.slug, project.tiers[0].id
        title = project.title
        backer = make.user(name="Mei")
        email = backer.email
        token = api_tokens.issue_token(email, factories.PASSWORD)[0]
        db.session.commit()
        db.session.remove()
    visitor = requests.Session()

    # Redis up: the page cache and the broker are in use.
    assert title in visitor.get(f"{server.url}/p/{server.slug}", timeout=30).text
    assert redis_server.client(2).keys("*page*"), "the page was not cached in Redis"
    response, _seconds = api_pledge(server, token, "before-the-outage")
    assert response.status_code == 201 and response.json()["status"] == "held"
    assert redis_server.client(1).llen(QUEUE) >= 1, "the mail run was not sent to the broker"

    redis_server.stop()

    for path in ("/", f"/p/{server.slug}", f"/?q={title}"):
        page = visitor.get(server.url + path, timeout=30)
        assert page.status_code == 200 and title in page.text, path
    answers = [api_pledge(server, token, f"during-the-outage-{n}") for n in range(5)]
    assert all(r.status_code == 201 and r.json()["status"] == "held" for r, _seconds in answers)
    # Only the first waits for Celery to give up on the broker (about a second); the next
    # ones do not try it again for CELERY_BROKER_BACKOFF.
    assert sum(seconds for _r, seconds in answers[1:]) < 4, [round(seconds, 2) for _r, seconds in answers]
    browser = signed_in(server, email)
    receipt = web_pledge(server, browser)
    assert receipt.status_code == 200 and "held in escrow" in receipt.text

    with app.app_context():
        pledge_ids = db.session.scalars(select(Pledge.id)).all()
        assert len(pledge_ids) == 7
        waiting = db.session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).all()
        assert {m.dedupe_key for m in waiting} == {f"pledge_receipt:{pledge_id}" for pledge_id in pledge_ids}
        db.session.remove()

    # Redis back (empty: the queued runs were lost with it). The mail run delivers what waited.
    redis_server.start()
    delivered = app.test_cli_runner().invoke(args=["mail", "deliver"])
    assert delivered.exit_code == 0, delivered.output
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).all() == []
        db.session.remove()
    assert len(list((Path(app.instance_path) / "mail").glob("*.eml"))) == 7


def test_jobs_are_not_sent_to_a_broker_that_was_away_moments_ago(app, redis_server, monkeypatch):
    from kombu.exceptions import OperationalError as BrokerUnreachable

    from crowdfund import jobs
    from crowdfund.jobs.celery_app import _mark_key

    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", redis_server.url(1))
    monkeypatch.setitem(app.config, "CELERY_TASK_DEFAULT_QUEUE", QUEUE)
    monkeypatch.setitem(app.config, "CELERY_BROKER_BACKOFF", 10)
    monkeypatch.setitem(app.extensions, "celery", None)
    monkeypatch.setitem(app.extensions, jobs.BROKER_AWAY_UNTIL, 0.0)
    marks = redis_server.client(1)
    with app.app_context():
        jobs.enqueue("deliver_mail")
        assert marks.llen(QUEUE) == 1
        redis_server.stop()

        with pytest.raises(BrokerUnreachable):
            jobs.enqueue("deliver_mail")
        started = time.monotonic()
        with pytest.raises(jobs.BrokerAway):
            jobs.enqueue("deliver_mail")
        jobs.start_sweeps(["deliver_mail"])  # logged, never raised
        assert time.monotonic() - started < 0.5

        redis_server.start()
        jobs.start_sweeps(["deliver_mail"])
        assert marks.llen(QUEUE) == 0  # not yet: still within the backoff, and not even marked
        assert not marks.exists(_mark_key(app, "deliver_mail"))
        app.extensions[jobs.BROKER_AWAY_UNTIL] = time.monotonic()  # the backoff is over
        jobs.start_sweeps(["deliver_mail"])
        assert marks.llen(QUEUE) == 1
