"""Fixtures for the payment gateways: localstripe, a recording Stripe HTTP client, an app
configured for Stripe, and Stripe's webhook signature scheme."""

import hashlib
import hmac
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from flask import Flask

from crowdfund import create_app
from crowdfund.payments.stripe_gateway import StripeGateway
from tests.conftest import FreshContextClient

LAUNCHER = Path(__file__).with_name("localstripe_launcher.py")
STRIPE_SECRET_KEY = "sk_test_crowdfund_suite"
STRIPE_PUBLISHABLE_KEY = "pk_test_crowdfund_suite"
STRIPE_WEBHOOK_SECRET = "whsec_crowdfund_suite"


# -- localstripe, out of process -----------------------------------------------------------
def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_localstripe_problem = []  # why localstripe could not start, so later tests do not try again


def _cannot_run(reason):
    _localstripe_problem.append(reason)
    if os.environ.get("CI") == "true":
        pytest.fail(f"localstripe is required in CI: {reason}")
    pytest.skip(f"localstripe tests skipped: {reason}")


@pytest.fixture(scope="session")
def localstripe():
    """The base URL of a localstripe server, started for this test session and stopped after."""
    if _localstripe_problem:
        _cannot_run(_localstripe_problem[0])
    if importlib.util.find_spec("localstripe") is None:
        _cannot_run("the localstripe package is not installed (pip install -r requirements-dev.txt)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "--port", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 20
        probe = urllib.request.Request(url + "/v1/balance", headers={"Authorization": f"Bearer {STRIPE_SECRET_KEY}"})
        while True:
            if process.poll() is not None:
                log.seek(0)
                _cannot_run(f"it exited with {process.returncode}: {log.read().decode(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(probe, timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    _cannot_run(f"it did not answer on {url} within 20 seconds")
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture()
def stripe_admin(localstripe):
    """A plain Stripe client on localstripe, to look at what the gateway did, as the dashboard would."""
    return stripe.StripeClient(STRIPE_SECRET_KEY, base_addresses={"api": localstripe}, max_network_retries=0)


def stripe_config_app(**config):
    """A bare Flask app carrying only Stripe configuration: StripeGateway reads nothing else."""
    app = Flask("stripe_gateway_test")
    app.config.update(
        {
            "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            "STRIPE_MAX_NETWORK_RETRIES": 0,
            **config,
        }
    )
    return app


# -- a recording HTTP client for what localstripe does not model -----------------------------
class Recorded:
    def __init__(self, method, url, headers, body):
        self.method = method.upper()
        self.url = url
        self.path = urlsplit(url).path
        self.headers = dict(headers or {})
        self.body = body or ""
        # Form-encoded, as stripe-python sends it: in the body of a POST, the query of a GET.
        self.params = dict(parse_qsl(self.body or urlsplit(url).query, keep_blank_values=True))

    def __repr__(self):
        return f"<{self.method} {self.path} {self.params}>"


# What a PaymentIntent confirmed with these payment methods asks of the backer, as Stripe
# answers (its next_action); any other payment method succeeds at once.
NEXT_ACTIONS = {
    "pm_card_authenticationRequired": lambda intent_id, return_url: (
        {
            "type": "redirect_to_url",
            "redirect_to_url": {
                "url": f"https://hooks.stripe.com/3d_secure_2/hosted?payment_intent={intent_id}",
                "return_url": return_url,
            },
        }
        if return_url
        else {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}
    ),
    "pm_alipay": lambda intent_id, return_url: {
        "type": "alipay_handle_redirect",
        "alipay_handle_redirect": {
            "url": f"https://hooks.stripe.com/redirect/authenticate/src_{intent_id}",
            "return_url": return_url,
            "native_url": None,
            "native_data": None,
        },
    },
    "pm_wechat_pay": lambda intent_id, return_url: {
        "type": "wechat_pay_display_qr_code",
        "wechat_pay_display_qr_code": {
            "data": "weixin://wxpay/bizpayurl?pr=test",
            "image_data_url": "data:image/png;base64,AA",
            "hosted_instructions_url": f"https://payments.stripe.com/qr/instructions/{intent_id}",
            "image_url_png": f"https://qr.stripe.com/{intent_id}.png",
            "image_url_svg": f"https://qr.stripe.com/{intent_id}.svg",
        },
    },
}


class RecordingHTTPClient(stripe.HTTPClient):
    """A stripe-python HTTP client that records every request and answers with canned JSON.

    Queue answers with `reply(status, body)` or `fail_connection()`; with none queued it
    answers like Stripe for PaymentIntents (create, retrieve, cancel, search), Refunds, Transfers
    (and their reversals), Disputes
    and Connect accounts and account links (see `stripe_like`); `intents` and `accounts` hold
    the PaymentIntents and accounts it made, to change them as Stripe would (a backer finishing
    3-D Secure, a firm finishing onboarding).
    """

    name = "recording"

    def __init__(self):
        super().__init__()
        self.requests = []
        self.intents = {}
        self.accounts = {}  # Connect accounts it opened, to change them as Stripe would (onboarding done)
        self.refunds = {}  # Refunds it made, to fail one as a backer's bank would
        self._queue = []
        self._count = 0

    def reply(self, status=200, body=None, *, headers=None):
        self._queue.append((status, body, headers or {}))
        return self

    def fail_connection(self):
        self._queue.append(
            stripe.APIConnectionError("Timed out talking to Stripe (recorded test client).", should_retry=True)
        )
        return self

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        call = Recorded(method, url, headers, post_data)
        self.requests.append(call)
        answer = self._queue.pop(0) if self._queue else self.stripe_like(call)
        if isinstance(answer, Exception):
            raise answer
        status, body, extra_headers = answer
        return json.dumps(body or {}), status, {"Request-Id": f"req_{len(self.requests)}", **extra_headers}

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise NotImplementedError("streaming is not used by the gateway")

    def close(self):
        pass

    def _sleep_time_seconds(self, num_retries):
        return 0  # stripe-python's own retries, without the back-off wait

    def stripe_like(self, call):
        self._count += 1
        p = call.params
        parts = call.path.strip("/").split("/")
        if call.path == "/v1/payment_intents":
            return 200, self._create_intent(p), {}
        if call.path == "/v1/payment_intents/search":
            return 200, self._search_intents(p), {}
        if parts[:2] == ["v1", "payment_intents"] and len(parts) in (3, 4):
            intent = self.intents.get(parts[2])
            if intent is None:
                return (
                    404,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "resource_missing",
                            "param": "intent",
                            "message": f"No such payment_intent: '{parts[2]}'",
                        }
                    },
                    {},
                )
            if len(parts) == 3 and call.method == "GET":
                return 200, intent, {}
            if parts[3:] == ["cancel"]:
                return self._cancel_intent(intent, p)
        if call.path == "/v1/refunds":
            refund = {
                "id": f"re_rec{self._count}",
                "object": "refund",
                "status": "succeeded",
                "amount": int(p["amount"]),
                "currency": "gbp",
                "payment_intent": p["payment_intent"],
                "failure_reason": None,
                "metadata": {
                    key[len("metadata[") : -1]: value for key, value in p.items() if key.startswith("metadata[")
                },
            }
            self.refunds[refund["id"]] = refund
            return 200, refund, {}
        if parts[:2] == ["v1", "refunds"] and len(parts) == 3 and call.method == "GET":
            refund = self.refunds.get(parts[2])
            if refund is None:
                return (
                    404,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "resource_missing",
                            "message": f"No such refund: '{parts[2]}'",
                        }
                    },
                    {},
                )
            return 200, refund, {}
        if call.path.startswith("/v1/account"):
            return self._connect(call)
        if call.path == "/v1/balance_transactions":
            return 200, self._balance_transactions(), {}
        if parts[:2] == ["v1", "disputes"] or parts[-1:] == ["reversals"]:
            return self._disputes(call)
        if call.path == "/v1/transfers":
            return (
                200,
                {
                    "id": f"tr_rec{self._count}",
                    "object": "transfer",
                    "amount": int(p["amount"]),
                    "currency": p["currency"],
                    "destination": p["destination"],
                    "transfer_group": p.get("transfer_group"),
                },
                {},
            )
        return (
            404,
            {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({call.path})."}},
            {},
        )

    def _connect(self, call):
        """Stripe Connect: Express accounts (new ones have not finished onboarding) and their links."""
        p, parts = call.params, call.path.strip("/").split("/")
        if call.path == "/v1/accounts" and call.method == "POST":
            account = {
                "id": f"acct_rec{self._count}",
                "object": "account",
                "type": p.get("type"),
                "country": p.get("country"),
                "email": p.get("email"),
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
                "capabilities": {"transfers": "inactive"},
                "requirements": {"currently_due": ["external_account"], "past_due": [], "disabled_reason": None},
                "metadata": {
                    key[len("metadata[") : -1]: value for key, value in p.items() if key.startswith("metadata[")
                },
            }
            self.accounts[account["id"]] = account
            return 200, account, {}
        if parts[:2] == ["v1", "accounts"] and len(parts) == 3 and call.method == "GET":
            account = self.accounts.get(parts[2])
            if account is None:
                return (
                    404,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "resource_missing",
                            "message": f"No such account: '{parts[2]}'",
                        }
                    },
                    {},
                )
            return 200, account, {}
        if call.path == "/v1/account_links" and call.method == "POST":
            return (
                200,
                {
                    "object": "account_link",
                    "url": f"https://connect.stripe.com/setup/e/{p['account']}/rec",
                    "created": 1,
                    "expires_at": 301,
                },
                {},
            )
        return (
            404,
            {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({call.path})."}},
            {},
        )

    def _disputes(self, call):
        """A chargeback of the first PaymentIntent (open, its amount withdrawn with Stripe's $15
        fee), and reversals of a Transfer."""
        p, parts = call.params, call.path.strip("/").split("/")
        if parts[1] == "disputes" and call.method == "GET":
            intent = self.intents.get("pi_rec1") or {"id": "pi_rec1", "object": "payment_intent", "metadata": {}}
            expanded = "payment_intent" in p.values()
            return (
                200,
                {
                    "id": parts[2],
                    "object": "dispute",
                    "amount": 2500,
                    "currency": "gbp",
                    "charge": "ch_rec1",
                    "payment_intent": intent if expanded else intent["id"],
                    "reason": "fraudulent",
                    "status": "needs_response",
                    "livemode": False,
                    "evidence_details": {"due_by": 1767225600},
                    "balance_transactions": [
                        {
                            "id": "txn_dp1",
                            "object": "balance_transaction",
                            "amount": -2500,
                            "fee": 1500,
                            "currency": "gbp",
                            "reporting_category": "dispute",
                        }
                    ],
                    "metadata": {},
                },
                {},
            )
        if parts[-1] == "reversals" and call.method == "POST":
            return (
                200,
                {
                    "id": f"trr_rec{self._count}",
                    "object": "transfer_reversal",
                    "amount": int(p["amount"]),
                    "currency": "gbp",
                    "transfer": parts[2],
                },
                {},
            )
        return (
            404,
            {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({call.path})."}},
            {},
        )

    def _create_intent(self, p):
        intent_id = f"pi_rec{self._count}"
        next_action = NEXT_ACTIONS.get(p.get("payment_method"))
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(p["amount"]),
            "currency": p["currency"],
            "status": "requires_action" if next_action else "succeeded",
            "next_action": next_action(intent_id, p.get("return_url")) if next_action else None,
            "client_secret": f"{intent_id}_secret_x",
            "transfer_group": p.get("transfer_group"),
            "payment_method": p.get("payment_method"),
            "last_payment_error": None,
            "metadata": {key[len("metadata[") : -1]: value for key, value in p.items() if key.startswith("metadata[")},
        }
        self.intents[intent_id] = intent
        return intent

    def _balance_transactions(self):
        """Stripe's balance history, sources expanded: a charge (with its fee), its refund, a transfer."""
        items = [
            {
                "id": "txn_1",
                "object": "balance_transaction",
                "type": "charge",
                "amount": 2500,
                "fee": 103,
                "currency": "gbp",
                "source": {"id": "ch_1", "object": "charge", "payment_intent": "pi_rec1"},
            },
            {
                "id": "txn_2",
                "object": "balance_transaction",
                "type": "refund",
                "amount": -1000,
                "fee": 0,
                "currency": "gbp",
                "source": {"id": "re_1", "object": "refund", "payment_intent": "pi_rec1"},
            },
            {
                "id": "txn_3",
                "object": "balance_transaction",
                "type": "transfer",
                "amount": -950,
                "fee": 0,
                "currency": "gbp",
                "source": {"id": "tr_1", "object": "transfer", "destination": "acct_1Firm"},
            },
        ]
        return {"object": "list", "url": "/v1/balance_transactions", "has_more": False, "data": items}

    def _search_intents(self, p):
        """Only the query StripeGateway.find_charge makes: metadata['crowdfund_key']:'<key>'."""
        match = re.fullmatch(r"metadata\['crowdfund_key'\]:'(.*)'", p["query"])
        assert match, f"the recording client cannot search for {p['query']!r}"
        key = re.sub(r"\\(.)", r"\1", match[1])  # Stripe's query quoting: \' and \\
        found = [intent for intent in self.intents.values() if intent["metadata"].get("crowdfund_key") == key]
        return {"object": "search_result", "url": "/v1/payment_intents/search", "has_more": False, "data": found}

    def _cancel_intent(self, intent, p):
        if intent["status"] in ("succeeded", "canceled"):
            return (
                400,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "payment_intent_unexpected_state",
                        "payment_intent": intent,
                        "message": "You cannot cancel this PaymentIntent because it has a status of "
                        f"{intent['status']}. "
                        "Only a PaymentIntent with one of the following statuses may be canceled: "
                        "requires_payment_method, requires_capture, requires_confirmation, requires_action, "
                        "processing.",
                    }
                },
                {},
            )
        intent.update(status="canceled", next_action=None, cancellation_reason=p.get("cancellation_reason"))
        return 200, intent, {}


@pytest.fixture()
def recorder():
    return RecordingHTTPClient()


@pytest.fixture()
def recorded_gateway(recorder):
    return StripeGateway(stripe_config_app(STRIPE_API_BASE="https://stripe.test"), http_client=recorder)


# -- an app whose payment gateway is Stripe ----------------------------------------------------
@pytest.fixture(scope="session")
def stripe_app(database_url, app):
    """The app as deployed with Stripe, on the suite's database (its rows are emptied by `db`)."""
    stripe_app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        PAYMENT_GATEWAY="stripe",
        STRIPE_SECRET_KEY=STRIPE_SECRET_KEY,
        STRIPE_PUBLISHABLE_KEY=STRIPE_PUBLISHABLE_KEY,
        STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET,
        STRIPE_API_BASE="http://127.0.0.1:9",
        STRIPE_MAX_NETWORK_RETRIES=0,
    )
    stripe_app.test_client_class = FreshContextClient
    yield stripe_app
    with stripe_app.app_context():
        from crowdfund.extensions import db

        db.engine.dispose()


@pytest.fixture()
def stripe_client(stripe_app, db):
    return stripe_app.test_client()


def stripe_signature(payload: bytes, secret=STRIPE_WEBHOOK_SECRET, timestamp=None):
    """The `Stripe-Signature` header Stripe sends: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
