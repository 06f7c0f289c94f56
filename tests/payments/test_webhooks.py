"""POST /webhooks/<gateway>: verified by the configured gateway, each event handled once."""

import json
import logging
import time
import uuid

import pytest
from sqlalchemy import func, select

from crowdfund.models import WebhookEvent
from crowdfund.payments import get_gateway, webhook_handlers
from tests.payments.conftest import stripe_signature


def event_payload(event_type="payment_intent.succeeded", event_id=None, **obj):
    obj = {
        "id": "pi_3Hook",
        "object": "payment_intent",
        "amount": 2500,
        "currency": "gbp",
        "status": "succeeded",
        "transfer_group": "project-7",
        **obj,
    }
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:20]}",
            "object": "event",
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()


def recorded(db):
    db.session.rollback()
    return db.session.execute(select(WebhookEvent.id, WebhookEvent.type)).all()


# -- the sandbox gateway (the session app) -----------------------------------------------------
def post_sandbox(client, payload, signature):
    return client.post(
        "/webhooks/sandbox", data=payload, content_type="application/json", headers={"Sandbox-Signature": signature}
    )


def test_a_signed_sandbox_event_is_handled_once(client, app, db, caplog):
    payload = event_payload(event_id="evt_sbx_once")
    signature = get_gateway(app).sign(payload)
    with caplog.at_level(logging.INFO, logger="crowdfund.payments.webhook_handlers"):
        first = post_sandbox(client, payload, signature)
        again = post_sandbox(client, payload, signature)
    assert (first.status_code, first.get_json()) == (200, {"received": True, "duplicate": False})
    assert (again.status_code, again.get_json()) == (200, {"received": True, "duplicate": True})
    assert recorded(db) == [("evt_sbx_once", "payment_intent.succeeded")]
    handled = [r for r in caplog.records if "pi_3Hook (2500 GBP) succeeded" in r.getMessage()]
    assert len(handled) == 1  # the replay did nothing


def test_a_sandbox_event_with_a_wrong_signature_is_refused(client, app, db):
    payload = event_payload()
    forged = get_gateway(app).sign(event_payload(amount=1))
    response = post_sandbox(client, payload, forged)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert recorded(db) == []


def test_an_event_without_a_handler_is_recorded_all_the_same(client, app, db):
    payload = event_payload("customer.created", event_id="evt_sbx_unhandled")
    response = post_sandbox(client, payload, get_gateway(app).sign(payload))
    assert response.status_code == 200
    assert recorded(db) == [("evt_sbx_unhandled", "customer.created")]


def test_a_failing_handler_leaves_the_event_for_the_next_delivery(client, app, db):
    @webhook_handlers.handles("test.flaky")
    def flaky(event):
        raise RuntimeError("the database went away")

    payload = event_payload("test.flaky", event_id="evt_sbx_flaky")
    try:
        with pytest.raises(RuntimeError):
            post_sandbox(client, payload, get_gateway(app).sign(payload))
        assert recorded(db) == []
    finally:
        webhook_handlers.HANDLERS["test.flaky"].remove(flaky)
    response = post_sandbox(client, payload, get_gateway(app).sign(payload))
    assert response.get_json() == {"received": True, "duplicate": False}
    assert recorded(db) == [("evt_sbx_flaky", "test.flaky")]


def test_events_for_a_gateway_that_is_not_configured_are_not_found(client, db):
    payload = event_payload()
    response = client.post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": stripe_signature(payload)},
    )
    assert response.status_code == 404
    assert recorded(db) == []


# -- the Stripe gateway (an app configured for Stripe) ---------------------------------------
def post_stripe(client, payload, signature):
    headers = {"Stripe-Signature": signature} if signature is not None else {}
    return client.post("/webhooks/stripe", data=payload, content_type="application/json", headers=headers)


def test_a_signed_stripe_event_is_handled_once(stripe_client, db, caplog):
    payload = event_payload(event_id="evt_1StripeOnce")
    with caplog.at_level(logging.INFO, logger="crowdfund.payments.webhook_handlers"):
        first = post_stripe(stripe_client, payload, stripe_signature(payload))
        again = post_stripe(stripe_client, payload, stripe_signature(payload))
    assert (first.status_code, first.get_json()["duplicate"]) == (200, False)
    assert (again.status_code, again.get_json()["duplicate"]) == (200, True)
    assert recorded(db) == [("evt_1StripeOnce", "payment_intent.succeeded")]
    assert len([r for r in caplog.records if "pi_3Hook" in r.getMessage()]) == 1


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(lambda p: stripe_signature(p, secret="whsec_someone_else"), id="other-secret"),
        pytest.param(lambda p: stripe_signature(p + b" "), id="other-body"),
        pytest.param(lambda p: stripe_signature(p, timestamp=int(time.time()) - 3600), id="an-hour-old"),
        pytest.param(lambda p: "t=1,v1=00", id="garbage"),
        pytest.param(lambda p: None, id="missing"),
    ],
)
def test_a_stripe_event_that_is_not_genuine_is_refused(stripe_client, db, signature):
    payload = event_payload()
    response = post_stripe(stripe_client, payload, signature(payload))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert recorded(db) == []


def test_the_sandbox_endpoint_is_closed_when_stripe_is_configured(stripe_client, app, db):
    payload = event_payload()
    response = stripe_client.post(
        "/webhooks/sandbox",
        data=payload,
        content_type="application/json",
        headers={"Sandbox-Signature": get_gateway(app).sign(payload)},
    )
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


# -- two deliveries of one event at the same moment -------------------------------------------
@pytest.mark.postgres_only
def test_two_deliveries_at_once_are_handled_once(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: concurrent transactions on one row")
    import threading

    from crowdfund.payments import WebhookEventData
    from crowdfund.services import webhooks

    event = WebhookEventData(id="evt_race", type="customer.created")
    assert webhooks.receive_event(event) is True  # the first delivery, not yet committed
    results = []

    def second_delivery():
        with app.app_context():
            results.append(webhooks.receive_event(event))
            db.session.commit()

    thread = threading.Thread(target=second_delivery)
    thread.start()
    thread.join(0.3)
    assert thread.is_alive()  # waiting for the first delivery's transaction to end
    db.session.commit()
    thread.join(10)
    assert results == [False]
    assert recorded(db) == [("evt_race", "customer.created")]
