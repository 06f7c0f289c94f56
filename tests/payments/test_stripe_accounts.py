"""Stripe Connect through StripeGateway, against the recording client: the firm's Express
account, its onboarding link, and its status as Stripe reports it."""

import json

import pytest

from crowdfund.payments import GatewayError
from crowdfund.payments.stripe_accounts import status_of
from crowdfund.payments.stripe_gateway import StripeGateway
from tests.payments.conftest import RecordingHTTPClient, stripe_config_app, stripe_signature


def test_an_express_account_is_opened_with_our_key_and_onboarded_by_a_link(recorded_gateway, recorder):
    ref = recorded_gateway.create_account(
        firm_id=7, country="GB", email="founder@example.com", idempotency_key="firm-7-payout-account-1"
    )
    url = recorded_gateway.onboarding_link(
        ref, return_url="https://crowdfund.test/r", refresh_url="https://crowdfund.test/f"
    )
    create, link = recorder.requests
    assert (create.method, create.path) == ("POST", "/v1/accounts")
    assert create.headers["Idempotency-Key"] == "firm-7-payout-account-1"
    assert create.params == {
        "type": "express",
        "country": "GB",
        "email": "founder@example.com",
        "capabilities[transfers][requested]": "true",
        "metadata[firm_id]": "7",
        "metadata[crowdfund_key]": "firm-7-payout-account-1",
    }
    assert (link.method, link.path) == ("POST", "/v1/account_links")
    assert link.params == {
        "account": ref,
        "type": "account_onboarding",
        "return_url": "https://crowdfund.test/r",
        "refresh_url": "https://crowdfund.test/f",
    }
    assert url == f"https://connect.stripe.com/setup/e/{ref}/rec"


def test_the_status_is_what_stripe_says_when_asked(recorded_gateway, recorder):
    ref = recorded_gateway.create_account(firm_id=7, country="GB", email=None, idempotency_key="k1")
    assert recorded_gateway.account_status(ref) == "pending"
    recorder.accounts[ref].update(
        payouts_enabled=True,
        capabilities={"transfers": "active"},
        requirements={"currently_due": [], "past_due": [], "disabled_reason": None},
    )
    assert recorded_gateway.account_status(ref) == "verified"
    recorder.accounts[ref].update(
        payouts_enabled=False,
        capabilities={"transfers": "inactive"},
        requirements={
            "currently_due": [],
            "past_due": ["external_account"],
            "disabled_reason": "requirements.past_due",
        },
    )
    assert recorded_gateway.account_status(ref) == "restricted"
    assert recorder.requests[-1].method == "GET" and recorder.requests[-1].path == f"/v1/accounts/{ref}"


@pytest.mark.parametrize(
    "account, status",
    [
        ({"payouts_enabled": True, "capabilities": {"transfers": "active"}}, "verified"),
        ({"payouts_enabled": True, "capabilities": {"transfers": "pending"}}, "pending"),  # transfers not yet on
        ({"payouts_enabled": False, "capabilities": {"transfers": "active"}}, "pending"),
        ({"requirements": {"disabled_reason": "rejected.fraud"}}, "restricted"),
        ({"requirements": {"past_due": ["individual.id_number"]}}, "restricted"),
        ({}, "pending"),
    ],
)
def test_an_account_is_verified_only_when_a_transfer_to_it_would_succeed(account, status):
    assert status_of(account) == status


def test_an_unknown_account_is_a_gateway_error(recorded_gateway):
    with pytest.raises(GatewayError) as missing:
        recorded_gateway.account_status("acct_1Nobody")
    assert missing.value.code == "resource_missing" and not missing.value.transient


def test_events_from_the_connect_endpoint_are_verified_with_its_own_secret():
    gateway = StripeGateway(
        stripe_config_app(STRIPE_CONNECT_WEBHOOK_SECRET="whsec_connect_suite"), http_client=RecordingHTTPClient()
    )
    payload = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": "account.updated",
            "account": "acct_1Firm",
            "data": {"object": {"id": "acct_1Firm", "object": "account"}},
        }
    ).encode()
    event = gateway.parse_webhook(payload, {"Stripe-Signature": stripe_signature(payload, "whsec_connect_suite")})
    assert (event.type, event.data["object"]["id"]) == ("account.updated", "acct_1Firm")
    with pytest.raises(GatewayError) as forged:
        gateway.parse_webhook(payload, {"Stripe-Signature": stripe_signature(payload, "whsec_someone_else")})
    assert forged.value.code == "bad_signature"
