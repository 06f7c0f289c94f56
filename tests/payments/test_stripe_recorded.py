"""StripeGateway against a recording HTTP client: what it sends to Stripe and how it reads
Stripe's answers, for what localstripe does not model (Connect transfers, idempotency
headers, 3-D Secure declines, wallets, outages). The canned answers follow Stripe's API
reference; that every parameter sent is one the API version takes is test_stripe_conformance.py."""

import pytest
import stripe

from crowdfund.payments import DECLINED, PROCESSING, REQUIRES_ACTION, GatewayError, NextAction, TransientGatewayError
from crowdfund.payments.stripe_gateway import StripeGateway
from tests.payments.conftest import STRIPE_SECRET_KEY, RecordingHTTPClient, stripe_config_app


def charge(gateway, idempotency_key="pledge-41:charge", amount=2500, currency="GBP", method="pm_1Card", **extra):
    return gateway.charge(
        amount=amount,
        currency=currency,
        payment_method=method,
        idempotency_key=idempotency_key,
        transfer_group="project-7",
        description="Pledge 41 to Lantern Tea",
        metadata={"pledge_id": 41},
        **extra,
    )


def wallet_gateway(recorder):
    return StripeGateway(
        stripe_config_app(STRIPE_PAYMENT_METHODS=["card", "alipay", "wechat_pay"]), http_client=recorder
    )


def card_error(code, message, *, decline_code=None, payment_intent=None):
    error = {"type": "card_error", "code": code, "message": message}
    if decline_code:
        error["decline_code"] = decline_code
    if payment_intent:
        error["payment_intent"] = payment_intent
    return {"error": error}


# -- what is sent --------------------------------------------------------------------------
def test_a_charge_is_one_confirmed_card_payment_intent(recorded_gateway, recorder):
    result = charge(recorded_gateway)
    assert result.ok and (result.ref, result.amount, result.currency) == ("pi_rec1", 2500, "GBP")
    [call] = recorder.requests
    assert (call.method, call.url) == ("POST", "https://stripe.test/v1/payment_intents")
    assert call.headers["Authorization"] == f"Bearer {STRIPE_SECRET_KEY}"
    assert call.headers["Stripe-Version"] == stripe.api_version
    # The pinned API version has no `payment_method_types` parameter: it refuses a request naming it.
    assert call.params == {
        "amount": "2500",
        "currency": "gbp",
        "payment_method": "pm_1Card",
        "confirm": "true",
        "allowed_payment_method_types[0]": "card",
        "transfer_group": "project-7",
        "description": "Pledge 41 to Lantern Tea",
        "metadata[pledge_id]": "41",
        "metadata[crowdfund_key]": "pledge-41:charge",
        "expand[0]": "latest_charge.balance_transaction",  # Stripe's fee is on it: the ledger books it
    }


def test_the_return_url_and_the_wallets_are_sent_when_there_are_some(recorder):
    charge(wallet_gateway(recorder), return_url="https://crowdfund.test/pledges/41/return")
    params = recorder.requests[0].params
    assert [params[f"allowed_payment_method_types[{i}]"] for i in range(3)] == ["card", "alipay", "wechat_pay"]
    assert params["return_url"] == "https://crowdfund.test/pledges/41/return"
    assert params["payment_method_options[wechat_pay][client]"] == "web"


def test_the_configured_api_version_is_the_one_every_request_names(recorder):
    gateway = StripeGateway(stripe_config_app(STRIPE_API_VERSION=stripe.api_version), http_client=recorder)
    charge(gateway)
    gateway.retrieve("pi_rec1")
    assert {call.headers["Stripe-Version"] for call in recorder.requests} == {stripe.api_version}


def test_a_payment_method_we_have_no_flow_for_is_refused_at_start():
    with pytest.raises(RuntimeError, match="ideal"):
        StripeGateway(stripe_config_app(STRIPE_PAYMENT_METHODS=["card", "ideal"]))


def test_zero_decimal_amounts_are_sent_as_they_are(recorded_gateway, recorder):
    charge(recorded_gateway, amount=3000, currency="JPY")
    assert (recorder.requests[0].params["amount"], recorder.requests[0].params["currency"]) == ("3000", "jpy")


def test_every_mutating_call_carries_our_idempotency_key(recorded_gateway, recorder):
    charge(recorded_gateway, idempotency_key="pledge-41:charge")
    recorded_gateway.refund(charge_ref="pi_rec1", amount=1000, currency="GBP", idempotency_key="pledge-41:refund")
    recorded_gateway.payout(
        amount=9000,
        currency="GBP",
        destination="acct_1Firm",
        idempotency_key="settlement-3:payout",
        transfer_group="project-7",
    )
    assert [(c.method, c.path, c.headers["Idempotency-Key"]) for c in recorder.requests] == [
        ("POST", "/v1/payment_intents", "pledge-41:charge"),
        ("POST", "/v1/refunds", "pledge-41:refund"),
        ("POST", "/v1/transfers", "settlement-3:payout"),
    ]


def test_a_retry_after_an_outage_sends_the_same_idempotency_key(recorded_gateway, recorder):
    recorder.reply(503, {"error": {"type": "api_error", "message": "Stripe is down."}})
    with pytest.raises(TransientGatewayError):
        charge(recorded_gateway)
    assert charge(recorded_gateway).ok
    first, second = recorder.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == "pledge-41:charge"
    assert first.params == second.params


def test_stripe_pythons_own_retries_reuse_our_key():
    recorder = RecordingHTTPClient().fail_connection().reply(500, {"error": {"type": "api_error"}})
    gateway = StripeGateway(stripe_config_app(STRIPE_MAX_NETWORK_RETRIES=2), http_client=recorder)
    assert charge(gateway).ok
    assert [c.headers["Idempotency-Key"] for c in recorder.requests] == ["pledge-41:charge"] * 3


def test_a_refund_is_of_the_payment_intent(recorded_gateway, recorder):
    moved = recorded_gateway.refund(
        charge_ref="pi_3Abc", amount=1200, currency="GBP", idempotency_key="pledge-9:refund"
    )
    assert (moved.ref, moved.amount, moved.currency) == ("re_rec1", 1200, "GBP")
    assert recorder.requests[0].params == {
        "payment_intent": "pi_3Abc",
        "amount": "1200",
        "metadata[crowdfund_key]": "pledge-9:refund",
    }


def test_a_refund_stripe_marks_failed_is_an_error(recorded_gateway, recorder):
    recorder.reply(200, {"id": "re_9", "object": "refund", "status": "failed", "amount": 100, "currency": "gbp"})
    with pytest.raises(GatewayError) as error:
        recorded_gateway.refund(charge_ref="pi_3Abc", amount=100, currency="GBP", idempotency_key="r")
    assert error.value.code == "refund_failed" and not error.value.transient


def test_a_refund_larger_than_the_charge_is_refused_by_stripe(recorded_gateway, recorder):
    recorder.reply(
        400,
        {
            "error": {
                "type": "invalid_request_error",
                "code": "amount_too_large",
                "param": "amount",
                "message": "Refund amount (£60.00) is greater than charge amount (£50.00)",
            }
        },
    )
    with pytest.raises(GatewayError) as error:
        recorded_gateway.refund(charge_ref="pi_3Abc", amount=6000, currency="GBP", idempotency_key="r")
    assert error.value.code == "amount_too_large" and not error.value.transient
    assert "greater than charge amount" in str(error.value)


# -- payouts: Connect transfers ----------------------------------------------------------------
def test_a_payout_is_a_transfer_to_the_firms_connected_account(recorded_gateway, recorder):
    moved = recorded_gateway.payout(
        amount=95000,
        currency="EUR",
        destination="acct_1Firm",
        idempotency_key="settlement-3:payout",
        transfer_group="project-7",
    )
    assert (moved.ref, moved.amount, moved.currency) == ("tr_rec1", 95000, "EUR")
    [call] = recorder.requests
    assert call.path == "/v1/transfers"
    assert call.params == {
        "amount": "95000",
        "currency": "eur",
        "destination": "acct_1Firm",
        "transfer_group": "project-7",
        "metadata[crowdfund_key]": "settlement-3:payout",
    }
    assert "Stripe-Account" not in call.headers  # made on the platform account, sent to the firm's


@pytest.mark.parametrize("destination", ["", None, "ba_1Bank", "GB29NWBK60161331926819"])
def test_a_payout_to_anything_but_a_connected_account_is_refused_before_calling_stripe(
    recorded_gateway, recorder, destination
):
    with pytest.raises(GatewayError) as error:
        recorded_gateway.payout(
            amount=100, currency="EUR", destination=destination, idempotency_key="p", transfer_group="project-7"
        )
    assert error.value.code == "invalid_destination"
    assert recorder.requests == []


def test_a_transfer_stripe_refuses_is_a_permanent_error(recorded_gateway, recorder):
    recorder.reply(
        400,
        {
            "error": {
                "type": "invalid_request_error",
                "code": "balance_insufficient",
                "message": "You have insufficient available funds in your Stripe account.",
            }
        },
    )
    with pytest.raises(GatewayError) as error:
        recorded_gateway.payout(
            amount=100, currency="EUR", destination="acct_1Firm", idempotency_key="p", transfer_group="project-7"
        )
    assert error.value.code == "balance_insufficient" and not error.value.transient


# -- declines --------------------------------------------------------------------------------
def test_a_declined_card_is_a_result_with_stripes_decline_code(recorded_gateway, recorder):
    recorder.reply(
        402,
        card_error(
            "card_declined",
            "Your card has insufficient funds.",
            decline_code="insufficient_funds",
            payment_intent={"id": "pi_D1", "status": "requires_payment_method"},
        ),
    )
    result = charge(recorded_gateway)
    assert not result.ok and not result.requires_action
    assert (result.ref, result.decline_code, result.message) == (
        "pi_D1",
        "insufficient_funds",
        "Your card has insufficient funds.",
    )


def test_a_generic_decline_reads_like_the_sandboxs(recorded_gateway, recorder):
    recorder.reply(402, card_error("card_declined", "Your card was declined.", decline_code="generic_decline"))
    assert charge(recorded_gateway).decline_code == "card_declined"


def test_authentication_required_decline_asks_the_browser_to_finish(recorded_gateway, recorder):
    recorder.reply(
        402,
        card_error(
            "authentication_required",
            "Your card was declined. This transaction requires authentication.",
            decline_code="authentication_required",
            payment_intent={"id": "pi_3DS", "status": "requires_action", "client_secret": "pi_3DS_secret_abc"},
        ),
    )
    result = charge(recorded_gateway)
    assert not result.ok and result.requires_action
    assert (result.ref, result.client_secret, result.decline_code) == (
        "pi_3DS",
        "pi_3DS_secret_abc",
        "authentication_required",
    )
    assert result.next_action == NextAction("use_stripe_sdk", None)


def test_a_payment_intent_waiting_for_3d_secure_asks_the_browser_to_finish(recorded_gateway, recorder):
    recorder.reply(
        200,
        {
            "id": "pi_W",
            "object": "payment_intent",
            "status": "requires_action",
            "client_secret": "pi_W_secret_x",
            "next_action": {"type": "use_stripe_sdk"},
        },
    )
    result = charge(recorded_gateway)
    assert not result.ok and result.requires_action and result.client_secret == "pi_W_secret_x"


def test_a_payment_intent_back_to_requires_payment_method_is_a_decline(recorded_gateway, recorder):
    recorder.reply(
        200,
        {
            "id": "pi_R",
            "object": "payment_intent",
            "status": "requires_payment_method",
            "last_payment_error": {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "expired_card",
                "message": "Your card has expired.",
            },
        },
    )
    result = charge(recorded_gateway)
    assert not result.ok and not result.requires_action
    assert (result.ref, result.decline_code, result.message) == ("pi_R", "expired_card", "Your card has expired.")


def test_a_payment_still_processing_is_not_reported_as_taken_nor_declined(recorded_gateway, recorder):
    recorder.reply(200, {"id": "pi_P", "object": "payment_intent", "status": "processing"})
    result = charge(recorded_gateway)
    assert not result.ok and result.processing and not result.final
    assert (result.ref, result.status) == ("pi_P", PROCESSING)


# -- what the backer must do: 3-D Secure and wallets ---------------------------------------------
@pytest.mark.parametrize(
    "method, return_url, expected",
    [
        (
            "pm_card_authenticationRequired",
            "https://crowdfund.test/r",
            NextAction("redirect_to_url", "https://hooks.stripe.com/3d_secure_2/hosted?payment_intent=pi_rec1"),
        ),
        ("pm_card_authenticationRequired", None, NextAction("use_stripe_sdk", None)),
        # A browser follows Alipay's redirect like any other: our callers need not know Alipay.
        (
            "pm_alipay",
            "https://crowdfund.test/r",
            NextAction("redirect_to_url", "https://hooks.stripe.com/redirect/authenticate/src_pi_rec1"),
        ),
        (
            "pm_wechat_pay",
            "https://crowdfund.test/r",
            NextAction("wechat_pay_display_qr_code", "https://payments.stripe.com/qr/instructions/pi_rec1"),
        ),
    ],
)
def test_a_payment_waiting_for_the_backer_says_what_they_must_do(recorder, method, return_url, expected):
    result = charge(wallet_gateway(recorder), method=method, return_url=return_url)
    assert result.status == REQUIRES_ACTION and result.requires_action and not result.final
    assert (result.ref, result.client_secret, result.next_action) == ("pi_rec1", "pi_rec1_secret_x", expected)
    assert (result.amount, result.currency) == (2500, "GBP")


def test_a_wechat_qr_code_without_instructions_page_points_at_the_image(recorded_gateway, recorder):
    recorder.reply(
        200,
        {
            "id": "pi_Q",
            "object": "payment_intent",
            "status": "requires_action",
            "client_secret": "s",
            "next_action": {
                "type": "wechat_pay_display_qr_code",
                "wechat_pay_display_qr_code": {"image_url_png": "https://qr.stripe.com/q.png"},
            },
        },
    )
    assert charge(recorded_gateway).next_action == NextAction(
        "wechat_pay_display_qr_code", "https://qr.stripe.com/q.png"
    )


# -- retrieve and cancel -----------------------------------------------------------------------
def intent(status, **fields):
    return {"id": "pi_L", "object": "payment_intent", "status": status, "amount": 2500, "currency": "gbp", **fields}


@pytest.mark.parametrize(
    "answer, code",
    [
        (
            intent(
                "requires_payment_method",
                last_payment_error={
                    "type": "invalid_request_error",
                    "code": "payment_intent_authentication_failure",
                    "message": "The provided PaymentMethod has failed authentication.",
                },
            ),
            "authentication_failed",
        ),
        (
            intent(
                "requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "insufficient_funds",
                    "message": "Your card has insufficient funds.",
                },
            ),
            "insufficient_funds",
        ),
        (
            intent(
                "requires_payment_method",
                last_payment_error={
                    "type": "invalid_request_error",
                    "code": "payment_intent_payment_attempt_expired",
                    "message": "The payment attempt expired.",
                },
            ),
            "action_expired",
        ),
        (intent("requires_payment_method"), "payment_failed"),
        (intent("canceled", cancellation_reason="abandoned"), "canceled"),
    ],
)
def test_a_payment_that_ended_without_money_is_a_final_decline_with_its_ref(recorded_gateway, recorder, answer, code):
    recorder.reply(200, answer)
    result = recorded_gateway.retrieve("pi_L")
    assert (result.status, result.final, result.ref, result.decline_code) == (DECLINED, True, "pi_L", code)
    assert (result.amount, result.currency) == (2500, "GBP")
    assert (recorder.requests[0].method, recorder.requests[0].path) == ("GET", "/v1/payment_intents/pi_L")


def test_retrieve_reads_a_payment_the_backer_finished(recorder):
    gateway = wallet_gateway(recorder)
    waiting = charge(gateway, method="pm_alipay", return_url="https://crowdfund.test/r")
    recorder.intents[waiting.ref].update(status="succeeded", next_action=None)
    assert gateway.retrieve(waiting.ref).ok
    assert [(c.method, c.path) for c in recorder.requests] == [
        ("POST", "/v1/payment_intents"),
        ("GET", f"/v1/payment_intents/{waiting.ref}"),
    ]


def test_cancel_abandons_a_waiting_payment(recorded_gateway, recorder):
    waiting = charge(recorded_gateway, method="pm_card_authenticationRequired")
    result = recorded_gateway.cancel(waiting.ref, idempotency_key="pledge-41:cancel")
    assert (result.status, result.ref, result.decline_code) == (DECLINED, waiting.ref, "canceled")
    call = recorder.requests[-1]
    assert (call.path, call.params, call.headers["Idempotency-Key"]) == (
        f"/v1/payment_intents/{waiting.ref}/cancel",
        {"cancellation_reason": "abandoned"},
        "pledge-41:cancel",
    )


def test_cancelling_a_payment_that_succeeded_meanwhile_returns_it_taken(recorded_gateway, recorder):
    waiting = charge(recorded_gateway, method="pm_card_authenticationRequired")
    recorder.intents[waiting.ref].update(status="succeeded", next_action=None)  # the backer was quicker
    result = recorded_gateway.cancel(waiting.ref, idempotency_key="pledge-41:cancel")
    assert result.ok and result.ref == waiting.ref
    assert [(c.method, c.path) for c in recorder.requests[1:]] == [
        ("POST", f"/v1/payment_intents/{waiting.ref}/cancel"),
        ("GET", f"/v1/payment_intents/{waiting.ref}"),
    ]


@pytest.mark.parametrize(
    "status, body, transient",
    [
        (404, {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such"}}, False),
        (503, {"error": {"type": "api_error", "message": "Stripe is down."}}, True),
    ],
)
def test_retrieve_and_cancel_errors_keep_their_kind(recorded_gateway, recorder, status, body, transient):
    recorder.reply(status, body).reply(status, body)
    for call in (
        lambda: recorded_gateway.retrieve("pi_X"),
        lambda: recorded_gateway.cancel("pi_X", idempotency_key="k"),
    ):
        with pytest.raises(GatewayError) as error:
            call()
        assert error.value.transient is transient


def test_an_unknown_payment_method_is_a_decline_not_a_crash(recorded_gateway, recorder):
    recorder.reply(
        400,
        {
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "param": "payment_method",
                "message": "No such PaymentMethod: 'pm_x'",
            }
        },
    )
    result = charge(recorded_gateway, method="pm_x")
    assert not result.ok and result.decline_code == "invalid_payment_method"


# -- outages and other errors ------------------------------------------------------------------
@pytest.mark.parametrize(
    "status, body",
    [
        (500, {"error": {"type": "api_error", "message": "An unknown error occurred"}}),
        (503, {}),
        (429, {"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"}}),
    ],
)
def test_server_errors_and_rate_limits_are_transient(recorded_gateway, recorder, status, body):
    recorder.reply(status, body)
    with pytest.raises(TransientGatewayError):
        charge(recorded_gateway)


def test_a_timeout_is_transient_for_every_operation(recorded_gateway, recorder):
    recorder.fail_connection().fail_connection().fail_connection()
    with pytest.raises(TransientGatewayError):
        charge(recorded_gateway)
    with pytest.raises(TransientGatewayError):
        recorded_gateway.refund(charge_ref="pi_1", amount=1, currency="GBP", idempotency_key="r")
    with pytest.raises(TransientGatewayError):
        recorded_gateway.payout(amount=1, currency="GBP", destination="acct_1", idempotency_key="p", transfer_group="g")


def test_reusing_a_key_with_other_parameters_is_an_idempotency_conflict(recorded_gateway, recorder):
    recorder.reply(
        400,
        {
            "error": {
                "type": "idempotency_error",
                "message": "Keys for idempotent requests can only "
                "be used with the same parameters they were first used with.",
            }
        },
    )
    with pytest.raises(GatewayError) as error:
        charge(recorded_gateway)
    assert error.value.code == "idempotency_conflict" and not error.value.transient


def test_a_wrong_api_key_is_a_permanent_error(recorded_gateway, recorder):
    recorder.reply(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
    with pytest.raises(GatewayError) as error:
        charge(recorded_gateway)
    assert error.value.code == "stripe_not_authorized" and not error.value.transient


# -- configuration -----------------------------------------------------------------------------
def test_each_gateway_keeps_its_own_key_and_address_and_sets_no_globals():
    one, two = RecordingHTTPClient(), RecordingHTTPClient()
    charge(
        StripeGateway(
            stripe_config_app(STRIPE_SECRET_KEY="sk_test_one", STRIPE_API_BASE="https://one.test"), http_client=one
        )
    )
    charge(
        StripeGateway(
            stripe_config_app(STRIPE_SECRET_KEY="sk_test_two", STRIPE_API_BASE="https://two.test"), http_client=two
        )
    )
    assert (one.requests[0].url, one.requests[0].headers["Authorization"]) == (
        "https://one.test/v1/payment_intents",
        "Bearer sk_test_one",
    )
    assert (two.requests[0].url, two.requests[0].headers["Authorization"]) == (
        "https://two.test/v1/payment_intents",
        "Bearer sk_test_two",
    )
    assert stripe.api_key is None and stripe.default_http_client is None


def test_stripe_without_a_secret_key_refuses_to_start():
    with pytest.raises(RuntimeError, match="STRIPE_SECRET_KEY"):
        StripeGateway(stripe_config_app(STRIPE_SECRET_KEY=None))


def test_the_app_configured_for_stripe_uses_one_stripe_gateway(stripe_app, app):
    from crowdfund.payments import get_gateway
    from crowdfund.payments.sandbox import SandboxGateway

    gateway = get_gateway(stripe_app)
    assert isinstance(gateway, StripeGateway) and get_gateway(stripe_app) is gateway
    assert gateway.webhook_secret == stripe_app.config["STRIPE_WEBHOOK_SECRET"]
    assert isinstance(get_gateway(app), SandboxGateway)


# -- find_charge: past Stripe's idempotency window ------------------------------------------------
def test_find_charge_looks_the_payment_up_by_the_key_in_its_metadata(recorded_gateway, recorder):
    made = charge(recorded_gateway, idempotency_key="pledge-41:o'charge")
    assert recorded_gateway.find_charge("pledge-41:o'charge") == made
    assert recorded_gateway.find_charge("pledge-99:charge") is None
    search = recorder.requests[1]
    assert (search.method, search.path) == ("GET", "/v1/payment_intents/search")
    assert search.params == {
        "query": r"metadata['crowdfund_key']:'pledge-41:o\'charge'",
        "limit": "10",
        "expand[0]": "data.latest_charge.balance_transaction",
    }


def test_find_charge_prefers_the_payment_that_was_taken(recorded_gateway, recorder):
    recorder.reply(
        200,
        {
            "object": "search_result",
            "has_more": False,
            "data": [
                intent("canceled", id="pi_old", created=1),
                intent("succeeded", id="pi_paid", created=2),
                intent("requires_payment_method", id="pi_new", created=3),
            ],
        },
    )
    assert recorded_gateway.find_charge("k").ref == "pi_paid"
