"""StripeGateway against localstripe, a stateful Stripe emulator run in its own process.

localstripe models PaymentIntents (confirm, cancel, 3-D Secure via card 4000 0025 0000 3155),
charges, refunds of a PaymentIntent and events. The launcher (localstripe_launcher.py) adds
what the API version we name does and localstripe does not: the parameters the gateway
sends, Stripe's error shapes for declines and cancels, the 3-D Secure redirect, search, and
Stripe's Idempotency-Key rules, 24-hour expiry included, on a clock tests move. What it
cannot model (wallets, Connect transfers, payments left processing, outages) is in
test_stripe_recorded.py.
"""

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import replace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import stripe
from sqlalchemy import select

from crowdfund.models import WebhookEvent
from crowdfund.payments import DECLINED, REQUIRES_ACTION, GatewayError, NextAction
from crowdfund.payments.stripe_gateway import StripeGateway
from tests.payments.conftest import STRIPE_SECRET_KEY, stripe_config_app, stripe_signature

DAY = 24 * 60 * 60
RETURN_URL = "https://crowdfund.test/pledges/41/return"


@pytest.fixture()
def gateway(localstripe):
    return StripeGateway(stripe_config_app(STRIPE_API_BASE=localstripe))


def key(label="charge"):
    return f"test:{label}:{uuid.uuid4().hex}"


def charge(gateway, method="pm_card_visa", amount=2500, currency="GBP", idempotency_key=None, **extra):
    return gateway.charge(
        amount=amount,
        currency=currency,
        payment_method=method,
        idempotency_key=idempotency_key or key(),
        transfer_group="project-7",
        metadata={"pledge_id": "41"},
        **extra,
    )


def post(url, data=None):
    """A POST to localstripe outside the Stripe client: its test controls, its `_authenticate`."""
    request = urllib.request.Request(
        url,
        data=urlencode(data or {}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {STRIPE_SECRET_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def advance_clock(localstripe, seconds):
    post(f"{localstripe}/_test/advance-clock?seconds={seconds}")


def secure_card(stripe_admin):
    """Stripe's test card that always asks for 3-D Secure."""
    return stripe_admin.v1.payment_methods.create(
        {"type": "card", "card": {"number": "4000002500003155", "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    ).id


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def visit_bank_page(url, outcome):
    """The backer's browser on the 3-D Secure page: where it is sent back to."""
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(f"{url}?outcome={outcome}", timeout=5)
    assert redirect.value.code == 302
    return redirect.value.headers["Location"]


def _latest_charge(stripe_admin, intent):
    """Stripe answers with the charge id; localstripe with the whole charge. Ask for it afresh."""
    charge_id = getattr(intent.latest_charge, "id", intent.latest_charge)
    return stripe_admin.v1.charges.retrieve(charge_id)


def test_a_visa_card_is_charged(gateway, stripe_admin):
    idempotency_key = key()
    result = charge(gateway, idempotency_key=idempotency_key, description="Pledge 41")
    assert result.ok and result.ref.startswith("pi_") and (result.amount, result.currency) == (2500, "GBP")
    intent = stripe_admin.v1.payment_intents.retrieve(result.ref)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 2500, "gbp")
    assert (intent.transfer_group, intent.allowed_payment_method_types) == ("project-7", ["card"])
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
    assert not result.ok and not result.requires_action and result.final
    assert (result.decline_code, result.message) == ("card_declined", "Your card was declined.")
    assert gateway.retrieve(result.ref).decline_code == "card_declined"  # the ref comes with the decline


def test_a_gateway_with_wallets_enabled_still_charges_cards(localstripe, stripe_admin):
    # localstripe has no Alipay nor WeChat Pay PaymentMethods: it takes only what is sent for them.
    gateway = StripeGateway(
        stripe_config_app(STRIPE_API_BASE=localstripe, STRIPE_PAYMENT_METHODS=["card", "alipay", "wechat_pay"])
    )
    result = charge(gateway, return_url=RETURN_URL)
    assert result.ok
    assert stripe_admin.v1.payment_intents.retrieve(result.ref).allowed_payment_method_types == [
        "card",
        "alipay",
        "wechat_pay",
    ]


def test_the_parameter_older_api_versions_took_is_refused(stripe_admin):
    with pytest.raises(stripe.InvalidRequestError, match="payment_method_types"):
        stripe_admin.v1.payment_intents.create({"amount": 100, "currency": "gbp", "payment_method_types": ["card"]})


# -- 3-D Secure ----------------------------------------------------------------------------------
def test_3d_secure_with_a_return_url_sends_the_backer_to_their_bank_and_back(gateway, stripe_admin):
    result = charge(gateway, method=secure_card(stripe_admin), return_url=RETURN_URL)
    assert (result.status, result.decline_code) == (REQUIRES_ACTION, "authentication_required")
    assert result.client_secret.startswith(result.ref + "_secret_")
    assert result.next_action.type == "redirect_to_url" and result.next_action.url.endswith(f"/_test/3ds/{result.ref}")
    back = urlsplit(visit_bank_page(result.next_action.url, "complete"))
    assert back._replace(query="").geturl() == RETURN_URL
    assert parse_qs(back.query) == {
        "payment_intent": [result.ref],
        "redirect_status": ["succeeded"],
        "payment_intent_client_secret": [result.client_secret],
    }
    assert gateway.retrieve(result.ref).ok


def test_3d_secure_the_bank_refuses_is_an_authentication_failure(gateway, stripe_admin):
    result = charge(gateway, method=secure_card(stripe_admin), return_url=RETURN_URL)
    assert "redirect_status=failed" in visit_bank_page(result.next_action.url, "fail")
    after = gateway.retrieve(result.ref)
    assert (after.status, after.decline_code, after.ref) == (DECLINED, "authentication_failed", result.ref)


def test_3d_secure_without_a_return_url_is_left_to_stripe_js(gateway, stripe_admin, localstripe):
    result = charge(gateway, method=secure_card(stripe_admin))
    assert result.next_action == NextAction("use_stripe_sdk", None)
    # What localstripe's Stripe.js does once the bank has answered.
    post(
        f"{localstripe}/v1/payment_intents/{result.ref}/_authenticate",
        {"client_secret": result.client_secret, "success": "true"},
    )
    assert gateway.retrieve(result.ref).ok


# -- cancel ----------------------------------------------------------------------------------------
def test_a_payment_the_backer_never_finished_is_cancelled(gateway, stripe_admin):
    waiting = charge(gateway, method=secure_card(stripe_admin), return_url=RETURN_URL)
    result = gateway.cancel(waiting.ref, idempotency_key=key("cancel"))
    assert (result.status, result.decline_code, result.ref) == (DECLINED, "canceled", waiting.ref)
    intent = stripe_admin.v1.payment_intents.retrieve(waiting.ref)
    assert (intent.status, intent.cancellation_reason) == ("canceled", "abandoned")


def test_a_payment_finished_before_the_cancel_comes_back_taken(gateway, stripe_admin):
    waiting = charge(gateway, method=secure_card(stripe_admin), return_url=RETURN_URL)
    visit_bank_page(waiting.next_action.url, "complete")  # the backer was quicker than reconcile
    cancel_key = key("cancel")
    assert gateway.cancel(waiting.ref, idempotency_key=cancel_key).ok
    assert gateway.cancel(waiting.ref, idempotency_key=cancel_key).ok  # Stripe's refusal is replayed
    assert stripe_admin.v1.payment_intents.retrieve(waiting.ref).status == "succeeded"


# -- idempotency ---------------------------------------------------------------------------------
def mine(stripe_admin, idempotency_key):
    return [
        pi.id
        for pi in stripe_admin.v1.payment_intents.list({"limit": 100}).auto_paging_iter()
        if pi.metadata.to_dict().get("crowdfund_key") == idempotency_key
    ]


def test_a_replayed_charge_returns_the_same_payment_intent(gateway, stripe_admin):
    idempotency_key = key()
    first = charge(gateway, idempotency_key=idempotency_key)
    again = charge(gateway, idempotency_key=idempotency_key)
    assert again == first
    assert mine(stripe_admin, idempotency_key) == [first.ref]


def test_a_declined_charge_is_replayed_not_tried_again(gateway, stripe_admin):
    idempotency_key = key()
    first = charge(gateway, method="pm_card_chargeCustomerFail", idempotency_key=idempotency_key)
    assert charge(gateway, method="pm_card_chargeCustomerFail", idempotency_key=idempotency_key) == first
    assert mine(stripe_admin, idempotency_key) == [first.ref]


def test_a_request_stripe_refused_as_invalid_leaves_its_key_unused(gateway, stripe_admin):
    idempotency_key = key()
    with pytest.raises(GatewayError) as error:
        charge(gateway, amount=0, idempotency_key=idempotency_key)  # refused before it ran
    assert not error.value.transient
    fixed = charge(gateway, amount=2500, idempotency_key=idempotency_key)  # not an idempotency conflict
    assert fixed.ok and mine(stripe_admin, idempotency_key) == [fixed.ref]


def test_a_key_is_replayed_for_24_hours_then_forgotten(gateway, stripe_admin, localstripe):
    idempotency_key = key()
    first = charge(gateway, idempotency_key=idempotency_key)
    advance_clock(localstripe, DAY - 60)
    assert charge(gateway, idempotency_key=idempotency_key) == first
    advance_clock(localstripe, 60)
    # Past the window, a charge whose call never answered is looked at, never made again.
    assert gateway.retrieve(first.ref) == first
    # (localstripe's search does not expand the charge's balance transaction, so no fee there)
    assert replace(gateway.find_charge(idempotency_key), fee=first.fee) == first
    assert gateway.find_charge(key()) is None
    # Why: the same request now is a new payment. The backer would pay twice.
    again = charge(gateway, idempotency_key=idempotency_key)
    assert again.ok and again.ref != first.ref
    assert sorted(mine(stripe_admin, idempotency_key)) == sorted([first.ref, again.ref])


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
    # localstripe lists oldest first, ten at a time: page through them all.
    events = stripe_admin.v1.events.list({"type": "payment_intent.succeeded", "limit": 100}).auto_paging_iter()
    [event] = [e for e in events if e.data.object.id == paid.ref]
    payload = json.dumps(event.to_dict()).encode()
    response = stripe_client.post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": stripe_signature(payload)},
    )
    assert response.status_code == 200 and response.get_json() == {"received": True, "duplicate": False}
    assert db.session.scalars(select(WebhookEvent.type).where(WebhookEvent.id == event.id)).all() == [
        "payment_intent.succeeded"
    ]
