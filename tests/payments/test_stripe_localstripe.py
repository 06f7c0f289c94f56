"""StripeGateway against localstripe, a stateful Stripe emulator run in its own process.

localstripe models PaymentIntents (confirm, 3-D Secure via card 4000 0025 0000 3155),
charges, refunds of a PaymentIntent and events; what it lacks (Connect transfers, Stripe's
error shapes for 3-D Secure declines, outages) is in test_stripe_recorded.py. The launcher
adds Stripe's Idempotency-Key behaviour and the `transfer_group`/`description` fields.
"""
import json
import uuid

import pytest
from sqlalchemy import select

from crowdfund.models import WebhookEvent
from crowdfund.payments import GatewayError
from crowdfund.payments.stripe_gateway import StripeGateway
from tests.payments.conftest import stripe_config_app, stripe_signature


@pytest.fixture()
def gateway(localstripe):
    return StripeGateway(stripe_config_app(STRIPE_API_BASE=localstripe))


def key(label="charge"):
    return f"test:{label}:{uuid.uuid4().hex}"


def charge(gateway, method="pm_card_visa", amount=2500, currency="GBP", idempotency_key=None, **extra):
    return gateway.charge(amount=amount, currency=currency, payment_method=method,
                          idempotency_key=idempotency_key or key(), transfer_group="project-7",
                          metadata={"pledge_id": "41"}, **extra)


def _latest_charge(stripe_admin, intent):
    """Stripe answers with the charge id; localstripe with the whole charge. Ask for it afresh."""
    charge_id = getattr(intent.latest_charge, "id", intent.latest_charge)
    return stripe_admin.v1.charges.retrieve(charge_id)


def test_a_visa_card_is_charged(gateway, stripe_admin):
    idempotency_key = key()
    result = charge(gateway, idempotency_key=idempotency_key, description="Pledge 41")
    assert result.ok and result.ref.startswith("pi_")
    intent = stripe_admin.v1.payment_intents.retrieve(result.ref)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 2500, "gbp")
    assert intent.transfer_group == "project-7"
    assert intent.metadata.to_dict() == {"pledge_id": "41", "crowdfund_key": idempotency_key}
    charge_ = _latest_charge(stripe_admin, intent)
    assert charge_.paid and charge_.amount == 2500


def test_yen_amounts_go_to_stripe_as_they_are(gateway, stripe_admin):
    result = charge(gateway, amount=3000, currency="JPY")
    intent = stripe_admin.v1.payment_intents.retrieve(result.ref)
    assert (intent.amount, intent.currency) == (3000, "jpy")


def test_a_card_whose_charge_fails_is_declined(gateway):
    # localstripe declines pm_card_chargeCustomerFail (4000 0000 0000 0341) when charged; it does
    # not know pm_card_chargeDeclined, and its pm_card_visa_chargeDeclined only fails to attach.
    result = charge(gateway, method="pm_card_chargeCustomerFail")
    assert not result.ok and not result.requires_action
    assert (result.decline_code, result.message) == ("card_declined", "Your card was declined.")


def test_a_card_that_needs_3d_secure_asks_the_browser_to_finish(gateway, stripe_admin):
    method = stripe_admin.v1.payment_methods.create({"type": "card", "card": {
        "number": "4000002500003155", "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
    result = charge(gateway, method=method.id)
    assert not result.ok and result.requires_action
    assert result.decline_code == "authentication_required"
    assert result.client_secret.startswith(result.ref + "_secret_")
    assert stripe_admin.v1.payment_intents.retrieve(result.ref).status == "requires_action"


def test_a_replayed_charge_returns_the_same_payment_intent(gateway, stripe_admin):
    idempotency_key = key()
    first = charge(gateway, idempotency_key=idempotency_key)
    again = charge(gateway, idempotency_key=idempotency_key)
    assert again == first
    mine = [pi for pi in stripe_admin.v1.payment_intents.list({"limit": 100}).data
            if pi.metadata.to_dict().get("crowdfund_key") == idempotency_key]
    assert [pi.id for pi in mine] == [first.ref]


def test_the_same_key_with_another_amount_is_refused(gateway):
    idempotency_key = key()
    charge(gateway, idempotency_key=idempotency_key, amount=2500)
    with pytest.raises(GatewayError) as error:
        charge(gateway, idempotency_key=idempotency_key, amount=9900)
    assert error.value.code == "idempotency_conflict"


def test_a_payment_intent_is_refunded_in_part_and_a_replay_refunds_nothing_more(gateway, stripe_admin):
    paid = charge(gateway, amount=5000)
    refund_key = key("refund")
    moved = gateway.refund(charge_ref=paid.ref, amount=2000, currency="GBP", idempotency_key=refund_key)
    assert moved.ref.startswith("re_") and (moved.amount, moved.currency) == (2000, "GBP")
    assert gateway.refund(charge_ref=paid.ref, amount=2000, currency="GBP", idempotency_key=refund_key) == moved
    intent = stripe_admin.v1.payment_intents.retrieve(paid.ref)
    assert _latest_charge(stripe_admin, intent).amount_refunded == 2000


def test_an_unknown_payment_intent_cannot_be_refunded(gateway):
    with pytest.raises(GatewayError) as error:
        gateway.refund(charge_ref="pi_doesnotexist", amount=100, currency="GBP", idempotency_key=key("refund"))
    assert not error.value.transient


def test_the_payment_event_localstripe_emits_is_accepted_by_our_webhook(gateway, stripe_admin, stripe_client, db):
    paid = charge(gateway)
    events = stripe_admin.v1.events.list({"type": "payment_intent.succeeded"}).data
    [event] = [e for e in events if e.data.object.id == paid.ref]
    payload = json.dumps(event.to_dict()).encode()
    response = stripe_client.post("/webhooks/stripe", data=payload, content_type="application/json",
                                  headers={"Stripe-Signature": stripe_signature(payload)})
    assert response.status_code == 200 and response.get_json() == {"received": True, "duplicate": False}
    assert db.session.scalars(select(WebhookEvent.type).where(WebhookEvent.id == event.id)).all() == [
        "payment_intent.succeeded"]
