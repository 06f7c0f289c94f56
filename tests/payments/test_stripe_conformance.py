"""Every request StripeGateway makes, checked against the pinned stripe package's own types.

stripe-python ships a TypedDict of parameters per endpoint (`stripe.params`), generated from
Stripe's OpenAPI description of the API version that package sends. Stripe refuses a request
naming a parameter its version does not have, and mypy would not notice: the gateway passes
plain dicts. So each method of the gateway is driven through the recording HTTP client, each
form-encoded request is decoded back into nested parameters, and every key, at every depth,
is checked against the endpoint's TypedDict: known, of the right type on the wire, and
present when required. Enums must be one of the values the package names.
"""

import re
from datetime import datetime, timezone
from functools import lru_cache
from types import UnionType
from typing import Any, Dict, List, Literal, Mapping, Union
from urllib.parse import parse_qsl

import pytest
import stripe
from stripe._request_options import RequestOptions
from stripe._stripe_context import StripeContext
from stripe.params import (
    AccountCreateParams,
    AccountLinkCreateParams,
    AccountRetrieveParams,
    BalanceTransactionListParams,
    DisputeRetrieveParams,
    PaymentIntentCancelParams,
    PaymentIntentCreateParams,
    PaymentIntentRetrieveParams,
    PaymentIntentSearchParams,
    RefundCreateParams,
    RefundRetrieveParams,
    TransferCreateParams,
    TransferReversalCreateParams,
)
from typing_extensions import get_args, get_origin, get_type_hints, is_typeddict

from crowdfund.payments import GatewayError, PaymentGateway, RefundRequest
from crowdfund.payments.stripe_gateway import StripeGateway
from tests.payments.conftest import STRIPE_SECRET_KEY, RecordingHTTPClient, stripe_config_app

# (method, path, the parameters' type) for every endpoint the gateway may call; the first match counts.
ENDPOINTS = [
    ("POST", r"/v1/payment_intents", PaymentIntentCreateParams),
    ("GET", r"/v1/payment_intents/search", PaymentIntentSearchParams),
    ("GET", r"/v1/payment_intents/[^/]+", PaymentIntentRetrieveParams),
    ("POST", r"/v1/payment_intents/[^/]+/cancel", PaymentIntentCancelParams),
    ("POST", r"/v1/refunds", RefundCreateParams),
    ("GET", r"/v1/refunds/[^/]+", RefundRetrieveParams),
    ("POST", r"/v1/transfers", TransferCreateParams),
    ("GET", r"/v1/balance_transactions", BalanceTransactionListParams),
    ("POST", r"/v1/accounts", AccountCreateParams),
    ("GET", r"/v1/accounts/[^/]+", AccountRetrieveParams),
    ("POST", r"/v1/account_links", AccountLinkCreateParams),
    ("GET", r"/v1/disputes/[^/]+", DisputeRetrieveParams),
    ("POST", r"/v1/transfers/[^/]+/reversals", TransferReversalCreateParams),
]
# Every params type inherits RequestOptions (api_key, idempotency_key ...): those are
# headers, never parameters. Their annotations name types their own module imports only
# for type checkers, hence these names.
REQUEST_OPTIONS = frozenset(RequestOptions.__annotations__)
REQUEST_OPTION_NAMES = {"StripeContext": StripeContext, "Mapping": Mapping}
WIRE = {int: r"-?\d+", float: r"-?\d+(\.\d+)?", bool: r"true|false"}


# -- decoding: `a[b][0]=x` back into {"a": {"b": {"0": "x"}}} -----------------------------------
def decode(flat):
    """Nested parameters from stripe-python's form encoding. List indexes stay as "0", "1" ...
    keys: whether a hash is a list is for the type to say, not the encoding."""
    tree = {}
    for key, value in flat.items():
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        assert match, f"{key!r} is not stripe-python's form encoding"
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            assert isinstance(node, dict), f"{key!r}: {part!r} is both a value and a hash"
        assert path[-1] not in node, f"{key!r} is sent twice"
        node[path[-1]] = value
    return tree


# -- checking against the package's TypedDicts --------------------------------------------------
@lru_cache(maxsize=None)
def fields(typed_dict):
    hints = get_type_hints(typed_dict, localns=REQUEST_OPTION_NAMES)
    return (
        {name: hint for name, hint in hints.items() if name not in REQUEST_OPTIONS},
        typed_dict.__required_keys__ - REQUEST_OPTIONS,
    )


def problems(params, typed_dict, path=""):
    """What in `params` (decoded) the API version behind `typed_dict` would refuse; [] if nothing."""
    known, required = fields(typed_dict)
    found = [f"{path}{name}: not a parameter of {typed_dict.__name__}" for name in params if name not in known]
    found += [f"{path}{name}: required by {typed_dict.__name__}, missing" for name in sorted(required - set(params))]
    for name, value in params.items():
        if name in known:
            found += check(value, known[name], f"{path}{name}")
    return found


def check(value, hint, path):
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return []
    if origin in (Union, UnionType):  # Union[...] and the X | Y spelling
        options = [v for arg in args if get_origin(arg) is Literal for v in get_args(arg)]
        if str in args and any(option != "" for option in options):
            # The package types every enum as Literal[...]|str so that values Stripe adds later
            # do not break old code; sending a value it does not name is still a typo.
            args = tuple(arg for arg in args if arg is not str)
        branches = [check(value, arg, path) for arg in args]
        if any(not branch for branch in branches):
            return []
        shaped = [branch for arg, branch in zip(args, branches) if _takes_hash(arg) == isinstance(value, dict)]
        if len(shaped) == 1:  # e.g. Literal['']|SomeParams given a hash: what is wrong inside it
            return shaped[0]
        return [f"{path}: {value!r} matches none of " + " | ".join(_name(arg) for arg in args)]
    if origin is Literal:
        allowed = [str(v).lower() if isinstance(v, bool) else str(v) for v in args]
        return [] if value in allowed else [f"{path}: {value!r} is not one of {allowed}"]
    if is_typeddict(hint):
        return problems(value, hint, f"{path}.") if isinstance(value, dict) else [f"{path}: expects a hash"]
    if origin in (list, List):
        if not isinstance(value, dict) or sorted(value) != sorted(str(i) for i in range(len(value))):
            return [f"{path}: expects a list (keys 0, 1, ...), got {value!r}"]
        return [problem for i in range(len(value)) for problem in check(value[str(i)], args[0], f"{path}[{i}]")]
    if origin in (dict, Dict):
        if not isinstance(value, dict):
            return [f"{path}: expects a hash"]
        return [problem for key, item in value.items() for problem in check(item, args[1], f"{path}[{key}]")]
    if isinstance(value, dict):
        return [f"{path}: expects a single value, got a hash"]
    if hint is str:
        return []
    if hint in WIRE:
        return [] if re.fullmatch(WIRE[hint], value) else [f"{path}: {value!r} is not a {hint.__name__}"]
    return [f"{path}: this test cannot check {_name(hint)}"]


def _takes_hash(hint):
    return is_typeddict(hint) or get_origin(hint) in (list, List, dict, Dict)


def _name(hint):
    return getattr(hint, "__name__", None) or repr(hint)[:60]


def params_type(call):
    for method, pattern, typed_dict in ENDPOINTS:
        if call.method == method and re.fullmatch(pattern, call.path):
            return typed_dict
    pytest.fail(f"The gateway called {call.method} {call.path}: add its params type to ENDPOINTS.")


def nonconforming(calls):
    return {
        f"{call.method} {call.path}": found
        for call in calls
        if (found := problems(decode(call.params), params_type(call)))
    }


# -- the gateway, driven through every method -----------------------------------------------------
def drive(gateway):
    """Every public method of the gateway, every branch that sends something different."""
    common = {
        "amount": 2500,
        "currency": "GBP",
        "transfer_group": "project-7",
        "description": "Pledge 41",
        "metadata": {"pledge_id": 41, "project_id": 7},
    }
    paid = gateway.charge(payment_method="pm_1Card", idempotency_key="pledge-41:charge", **common)
    gateway.charge(payment_method="pm_1Card", idempotency_key="pledge-42:charge", **{**common, "description": ""})
    waiting = gateway.charge(
        payment_method="pm_card_authenticationRequired",
        idempotency_key="pledge-43:charge",
        return_url="https://crowdfund.test/pledges/43/return",
        **common,
    )
    wallet = gateway.charge(
        payment_method="pm_wechat_pay",
        idempotency_key="pledge-44:charge",
        return_url="https://crowdfund.test/pledges/44/return",
        **common,
    )
    gateway.charge(
        payment_method="pm_alipay",
        idempotency_key="pledge-45:charge",
        return_url="https://crowdfund.test/pledges/45/return",
        **common,
    )
    assert waiting.requires_action and wallet.requires_action
    gateway.retrieve(waiting.ref)
    assert gateway.find_charge("pledge-43:charge").ref == waiting.ref and gateway.find_charge("it's none") is None
    gateway.cancel(waiting.ref, idempotency_key="pledge-43:cancel")
    assert gateway.cancel(paid.ref, idempotency_key="pledge-41:cancel").ok  # refused by Stripe, then retrieved
    refund = gateway.refund(charge_ref=paid.ref, amount=1000, currency="GBP", idempotency_key="pledge-41:refund")
    assert gateway.retrieve_refund(refund.ref).key == "pledge-41:refund"
    gateway.refund_many([RefundRequest(charge_ref=paid.ref, amount=500, currency="GBP", idempotency_key="r2")])
    gateway.payout(
        amount=95000,
        currency="GBP",
        destination="acct_1Firm",
        idempotency_key="settlement-3:payout",
        transfer_group="project-7",
    )
    since, until = datetime(2026, 12, 1, tzinfo=timezone.utc), datetime(2026, 12, 2, tzinfo=timezone.utc)
    assert [record.kind for record in gateway.activity(since=since, until=until)] == ["charge", "refund", "payout"]
    gateway.activity()
    return (
        {
            "charge",
            "retrieve",
            "find_charge",
            "cancel",
            "refund",
            "retrieve_refund",
            "refund_many",
            "payout",
            "activity",
        }
        | drive_accounts(gateway)
        | drive_disputes(gateway)
    )


def drive_accounts(gateway):
    """Stripe Connect: a firm's Express account, its onboarding link, its status."""
    ref = gateway.create_account(
        firm_id=7, country="GB", email="founder@example.com", idempotency_key="firm-7-payout-account-1"
    )
    gateway.create_account(firm_id=8, country="HK", email=None, idempotency_key="firm-8-payout-account-1")
    gateway.onboarding_link(
        ref,
        return_url="https://crowdfund.test/firms/7/payout-account/return",
        refresh_url="https://crowdfund.test/firms/7/payout-account/refresh",
    )
    assert gateway.account_status(ref) == "pending"
    return {"create_account", "onboarding_link", "account_status"}


def drive_disputes(gateway):
    """A chargeback looked at, and a payout taken back from the firm's connected account."""
    dispute = gateway.retrieve_dispute("dp_rec1Dispute")
    assert (dispute.charge_ref, dispute.status, dispute.funds_withdrawn, dispute.fee) == (
        "pi_rec1",
        "needs_response",
        2500,
        1500,
    )
    gateway.reverse_payout("tr_rec1Payout", amount=2375, idempotency_key="dispute-1-reversal")
    return {"retrieve_dispute", "reverse_payout"}


CONFIGS = {
    "cards": {},
    "cards and wallets": {"STRIPE_PAYMENT_METHODS": ["card", "alipay", "wechat_pay"]},
    "version named in config": {"STRIPE_API_VERSION": stripe.api_version, "STRIPE_PAYMENT_METHODS": ["card", "alipay"]},
}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_every_request_the_gateway_makes_is_one_the_api_version_takes(config):
    recorder = RecordingHTTPClient()
    gateway = StripeGateway(stripe_config_app(**config), http_client=recorder)
    driven = drive(gateway)
    public = {
        name for name in dir(StripeGateway) if not name.startswith("_") and callable(getattr(StripeGateway, name))
    }
    assert public - driven == {"parse_webhook"}, "a gateway method this test does not drive"
    assert {params_type(call) for call in recorder.requests} == {typed for _, _, typed in ENDPOINTS}
    assert nonconforming(recorder.requests) == {}
    assert {call.headers["Stripe-Version"] for call in recorder.requests} == {
        config.get("STRIPE_API_VERSION") or stripe.api_version
    }


def test_parse_webhook_sends_nothing_to_stripe():
    recorder = RecordingHTTPClient()
    gateway = StripeGateway(stripe_config_app(), http_client=recorder)
    with pytest.raises(GatewayError):
        gateway.parse_webhook(b"{}", {"Stripe-Signature": "t=1,v1=0"})
    assert recorder.requests == [] and issubclass(StripeGateway, PaymentGateway)


def test_an_api_version_in_config_is_the_one_sent():
    recorder = RecordingHTTPClient()
    gateway = StripeGateway(stripe_config_app(STRIPE_API_VERSION="2025-03-31.basil"), http_client=recorder)
    gateway.retrieve(
        gateway.charge(
            amount=100, currency="GBP", payment_method="pm_1Card", idempotency_key="k", transfer_group="g"
        ).ref
    )
    assert [call.headers["Stripe-Version"] for call in recorder.requests] == ["2025-03-31.basil"] * 2


def test_what_the_charge_sends_decodes_to_what_it_means():
    recorder = RecordingHTTPClient()
    gateway = StripeGateway(stripe_config_app(STRIPE_PAYMENT_METHODS=["card", "wechat_pay"]), http_client=recorder)
    gateway.charge(
        amount=2500,
        currency="GBP",
        payment_method="pm_1Card",
        idempotency_key="pledge-41:charge",
        transfer_group="project-7",
        metadata={"pledge_id": 41},
        return_url="https://crowdfund.test/r",
    )
    assert decode(recorder.requests[0].params) == {
        "amount": "2500",
        "currency": "gbp",
        "payment_method": "pm_1Card",
        "confirm": "true",
        "allowed_payment_method_types": {"0": "card", "1": "wechat_pay"},
        "transfer_group": "project-7",
        "metadata": {"pledge_id": "41", "crowdfund_key": "pledge-41:charge"},
        "return_url": "https://crowdfund.test/r",
        "payment_method_options": {"wechat_pay": {"client": "web"}},
        "expand": {"0": "latest_charge.balance_transaction"},
    }  # where Stripe's fee is


# -- the check has teeth --------------------------------------------------------------------------
def sent(params, endpoint="payment_intents"):
    """`params` as stripe-python puts them on the wire, decoded again."""
    recorder = RecordingHTTPClient().reply(200, {})  # whatever was sent: only the request matters
    client = stripe.StripeClient(STRIPE_SECRET_KEY, http_client=recorder, max_network_retries=0)
    getattr(client.v1, endpoint).create(params)
    return decode(dict(parse_qsl(recorder.requests[0].body, keep_blank_values=True)))


GOOD = {
    "amount": 2500,
    "currency": "gbp",
    "payment_method": "pm_1",
    "confirm": True,
    "allowed_payment_method_types": ["card"],
    "metadata": {"pledge_id": "41"},
}


def test_the_good_charge_passes():
    assert problems(sent(GOOD), PaymentIntentCreateParams) == []


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"payment_method_types": ["card"]}, "payment_method_types: not a parameter of PaymentIntentCreateParams"),
        (
            {"payment_method_options": {"wechat_pay": {"clients": "web"}}},
            "payment_method_options.wechat_pay.clients: not a parameter of",
        ),
        ({"payment_method_options": {"wechat_pay": {"client": "desktop"}}}, "payment_method_options.wechat_pay"),
        ({"allowed_payment_method_types": ["card", "wechatpay"]}, "allowed_payment_method_types[1]: 'wechatpay'"),
        ({"allowed_payment_method_types": {"card": "yes"}}, "allowed_payment_method_types: expects a list"),
        ({"amount": "25.00"}, "amount: '25.00' is not a int"),
        ({"confirm": "yes"}, "confirm: 'yes' is not a bool"),
        ({"metadata": {"pledge": {"id": "41"}}}, "metadata"),
        ({"return_url": {"url": "https://x"}}, "return_url: expects a single value"),
        ({"currency": None}, "currency: required by PaymentIntentCreateParams, missing"),
        ({"idempotency_key": "k"}, "idempotency_key: not a parameter"),  # an option, never a parameter
    ],
)
def test_a_parameter_the_version_does_not_take_is_caught(change, problem):
    found = problems(sent({**GOOD, **change}), PaymentIntentCreateParams)
    assert any(line.startswith(problem) for line in found), found


def test_a_cancellation_reason_stripe_does_not_name_is_caught():
    assert problems({"cancellation_reason": "abandoned"}, PaymentIntentCancelParams) == []
    assert problems({"cancellation_reason": "timeout"}, PaymentIntentCancelParams) != []


def test_the_gateway_sending_the_old_parameter_would_fail_the_conformance_check(monkeypatch):
    from crowdfund.payments import stripe_gateway

    monkeypatch.setattr(stripe_gateway, "PAYMENT_METHOD_TYPES_PARAM", "payment_method_types")
    recorder = RecordingHTTPClient()
    drive(StripeGateway(stripe_config_app(), http_client=recorder))
    assert nonconforming(recorder.requests) == {
        "POST /v1/payment_intents": ["payment_method_types: not a parameter of PaymentIntentCreateParams"]
    }
