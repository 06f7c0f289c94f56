"""Delivering the sandbox's webhook events: signed, retried, and in chaos mode out of order."""

import json
import random
from datetime import timedelta

import pytest

from crowdfund import jobs
from crowdfund.jobs.sandbox_webhooks import JOB, deliver_due
from crowdfund.models import utcnow
from crowdfund.payments import GatewayError, webhook_handlers
from tests.payments.sandbox_helpers import Endpoint, pay, queued, received


@pytest.fixture()
def endpoint(app, monkeypatch):
    """A webhook endpoint elsewhere (SANDBOX_WEBHOOK_URL): delivery goes over real HTTP."""
    server = Endpoint()
    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOK_URL", server.url)
    yield server
    server.close()


def test_due_events_reach_our_endpoint_in_process_signed_and_whole(app, sandbox, db):
    seen = []

    @webhook_handlers.handles("payment_intent.succeeded")
    def spy(event):
        seen.append(event)

    try:
        ref = pay(sandbox, amount=2500, currency="CNY").ref
        report = deliver_due(app)
    finally:
        webhook_handlers.HANDLERS["payment_intent.succeeded"].remove(spy)
    [event] = queued(db)
    assert report.delivered == 1 and received(db) == {event.id}
    assert (event.attempts, event.last_error) == (1, None) and event.delivered_at is not None
    [handled] = seen
    assert (handled.id, handled.type, handled.data) == (event.id, "payment_intent.succeeded", event.payload["data"])
    assert handled.data["object"]["id"] == ref
    assert deliver_due(app).delivered == 0  # delivered once, never again


def test_over_http_each_post_is_signed_as_parse_webhook_verifies(app, sandbox, db, endpoint):
    pay(sandbox, "pm_card_chargeDeclined")
    assert deliver_due(app).delivered == 1
    [(path, headers, body)] = endpoint.posts
    assert path == "/hooks/sandbox" and headers["Content-Type"] == "application/json"
    event = sandbox.parse_webhook(body, headers)
    assert (event.id, event.type) == (queued(db)[0].id, "payment_intent.payment_failed")
    assert event.data["object"]["last_payment_error"]["decline_code"] == "card_declined"
    tampered = body.replace(b'"amount":5000', b'"amount":5')
    with pytest.raises(GatewayError) as error:
        sandbox.parse_webhook(tampered, headers)
    assert error.value.code == "bad_signature"


def test_a_refused_delivery_is_tried_again_later_with_a_growing_wait(app, sandbox, db, endpoint):
    endpoint.statuses = [500, 503]
    pay(sandbox)
    start = utcnow()
    assert deliver_due(app, start).failed == 1
    [event] = queued(db)
    assert event.attempts == 1 and event.last_error.startswith("HTTP 500")
    assert deliver_due(app, start + timedelta(seconds=4)).failed == 0  # not due yet: 5 s
    assert deliver_due(app, start + timedelta(seconds=5)).failed == 1  # 2nd try, refused again
    assert deliver_due(app, start + timedelta(seconds=14)).delivered == 0  # now 10 s
    assert deliver_due(app, start + timedelta(seconds=15)).delivered == 1
    [event] = queued(db)
    assert (event.attempts, event.last_error) == (3, None) and len(endpoint.posts) == 3


def test_a_handler_that_fails_in_process_is_retried(app, sandbox, db):
    calls = []

    @webhook_handlers.handles("payment_intent.succeeded")
    def flaky(event):
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("the database went away")

    try:
        pay(sandbox)
        now = utcnow()
        assert deliver_due(app, now).failed == 1
        assert received(db) == set()
        assert deliver_due(app, now + timedelta(seconds=5)).delivered == 1
    finally:
        webhook_handlers.HANDLERS["payment_intent.succeeded"].remove(flaky)
    assert received(db) == {queued(db)[0].id} and len(calls) == 2


def test_an_event_is_given_up_after_the_last_attempt(app, sandbox, db, endpoint, monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOK_MAX_ATTEMPTS", 2)
    endpoint.statuses = [500] * 5
    pay(sandbox)
    now = utcnow()
    assert deliver_due(app, now).failed == 1
    assert deliver_due(app, now + timedelta(seconds=5)).gave_up == 1
    assert (
        deliver_due(app, now + timedelta(days=1)).as_dict()
        == deliver_due(app).as_dict()
        == {"delivered": 0, "failed": 0, "gave_up": 0, "held_back": 0, "sent_twice": 0}
    )
    [event] = queued(db)
    assert event.delivered_at is None and event.attempts == 2 and "HTTP 500" in event.last_error


def test_chaos_sends_some_twice_out_of_order_and_holds_some_back(app, sandbox, db, endpoint, monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOK_CHAOS", True)
    for amount in range(100, 1300, 100):
        pay(sandbox, amount=amount)
    created = [event.id for event in queued(db)]
    rng, now, reports = random.Random(4), utcnow(), []
    for second in range(0, 60, 5):
        reports.append(deliver_due(app, now + timedelta(seconds=second), rng=rng))
    posted = endpoint.event_ids()
    assert set(posted) == set(created) and all(e.delivered_at for e in queued(db))
    assert sum(r.sent_twice for r in reports) == len(posted) - len(created) > 0
    assert reports[0].held_back > 0 and reports[0].delivered < len(created)
    first_run = [event_id for event_id in dict.fromkeys(posted)][: reports[0].delivered]
    assert first_run != [event_id for event_id in created if event_id in first_run]  # shuffled
    # Reproducible: the same seed gives the same pattern.
    again = [r.as_dict() for r in reports]
    assert again == [r.as_dict() for r in _replay(app, sandbox, db, endpoint)]


def _replay(app, sandbox, db, endpoint):
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(
            db.metadata.tables["sandbox_webhook_events"]
            .update()
            .values(delivered_at=None, attempts=0, deliver_after=utcnow() - timedelta(seconds=1))
        )
    rng, now = random.Random(4), utcnow()
    return [deliver_due(app, now + timedelta(seconds=second), rng=rng) for second in range(0, 60, 5)]


def test_the_sweep_is_a_periodic_job_and_a_command(app, sandbox, db):
    assert (JOB, 5.0) in jobs.periodic_jobs(app.config) and jobs.is_sweep(JOB)
    pay(sandbox)
    pay(sandbox, "pm_alipay")
    result = app.test_cli_runner().invoke(args=["sandbox", "deliver-webhooks"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Delivered 2, failed 0 (will retry), gave up on 0.",
        "Events: 0 waiting, 0 given up, 2 delivered.",
    ]
    assert len(received(db)) == 2


def test_delivery_starts_when_the_callers_transaction_commits(app, sandbox, db):
    from crowdfund import after_commit

    with app.app_context():
        pay(sandbox)  # a service's charge: the event waits for its caller's commit
        from crowdfund.extensions import db as ext_db

        ext_db.session.commit()
        after_commit.run()
    assert received(db) == {queued(db)[0].id}


def test_events_are_json_bodies_stripe_handlers_can_read(app, sandbox, db, endpoint):
    pay(sandbox, "pm_wechat_pay")
    deliver_due(app)
    body = json.loads(endpoint.posts[0][2])
    assert set(body) == {"id", "object", "type", "created", "livemode", "data"}
    assert body["data"]["object"]["object"] == "payment_intent" and body["livemode"] is False
