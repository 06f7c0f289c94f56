"""Run localstripe for the test suite: `python localstripe_launcher.py --port N`.

localstripe (https://github.com/adrienverge/localstripe, GPL-3.0) is a test-only tool; it
runs in a process of its own and nothing in `crowdfund` imports it. This launcher starts it
the way the suite needs, closer to the Stripe API version our gateway names:

- it listens on 127.0.0.1 only (the `localstripe` command binds every interface);
- its state stays in memory (the command pickles it to the shared /tmp/localstripe.pickle
  after every write, which parallel runs on one machine would fight over);
- PaymentIntents take what our gateway sends and localstripe rejects as "Unexpected":
  `transfer_group`, `description`, `return_url`, `allowed_payment_method_types`; and, like
  that API version, they refuse the older `payment_method_types`;
- a declined confirmation (402) names its PaymentIntent, as Stripe's card errors do;
- cancel takes `cancellation_reason`, and refuses a PaymentIntent that cannot be cancelled
  with Stripe's `payment_intent_unexpected_state` error;
- 3-D Secure confirmed with a `return_url` answers `redirect_to_url`, to a test page of
  this launcher (GET /_test/3ds/<id>?outcome=complete|fail) that plays the backer's bank
  and sends the browser to the return URL with Stripe's query parameters; without a
  return_url it stays localstripe's `use_stripe_sdk` (finished with its `_authenticate`);
- GET /v1/payment_intents/search answers `metadata['<key>']:'<value>'` queries;
- POST requests honour the `Idempotency-Key` header as Stripe documents it: the same key
  with the same parameters replays the first response (with `Idempotent-Replayed: true`),
  the same key with other parameters is a 400 `idempotency_error`. Keys are forgotten 24
  hours after first use, on a clock tests move with POST /_test/advance-clock?seconds=N.
  As at Stripe, only requests that began executing are saved: successes, declines (402)
  and refusals of the object's state; not parameter errors, missing objects nor 5xx.
"""

import argparse
import json
import re
import time
from urllib.parse import urlencode

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError

KEY_LIFETIME = 24 * 60 * 60  # seconds Stripe keeps an idempotency key
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action")
CANCELLATION_REASONS = (None, "abandoned", "duplicate", "fraudulent", "requested_by_customer")
# 400s Stripe gives only once the request runs (the object's state): their replies are saved.
EXECUTION_ERRORS = {"payment_intent_unexpected_state"}

_base_url = []  # this server's own address, for the 3-D Secure page's links
_clock = {"offset": 0.0}  # seconds the tests moved the clock forward
_replies = {}  # (Authorization, Idempotency-Key) -> (saved at, path, body, status, text)


def now():
    return time.time() + _clock["offset"]


def _keep_state_in_memory():
    resources.Store.dump_to_disk = lambda self: None


def _unknown(*names):
    return UserError(
        400, f"Received unknown parameter: {', '.join(names)}", {"code": "parameter_unknown", "param": names[0]}
    )


# -- PaymentIntents as our API version has them ---------------------------------------------------
def _patch_payment_intents():
    intent_class = resources.PaymentIntent
    original_init, original_confirm = intent_class.__init__, intent_class._confirm
    original_report_failure = intent_class._report_failure

    def __init__(
        self,
        *args,
        transfer_group=None,
        description=None,
        return_url=None,
        allowed_payment_method_types=None,
        payment_method_types=None,
        **kwargs,
    ):
        # Checked before localstripe's own __init__, which stores the object.
        if payment_method_types is not None:
            raise _unknown("payment_method_types")
        if allowed_payment_method_types is not None and (
            not isinstance(allowed_payment_method_types, list)
            or not all(isinstance(kind, str) for kind in allowed_payment_method_types)
        ):
            raise UserError(400, "Invalid array", {"param": "allowed_payment_method_types"})
        original_init(self, *args, **kwargs)
        self.transfer_group = transfer_group
        self.description = description
        self.return_url = return_url
        self.allowed_payment_method_types = allowed_payment_method_types or ["card"]
        self.payment_method_types = self.allowed_payment_method_types  # the response field keeps its name
        self.cancellation_reason = None

    def _confirm(self, on_failure_now):
        original_confirm(self, on_failure_now)
        if self.next_action and self.return_url:
            # Confirmed server-side with a return_url, Stripe sends the backer to their bank's page.
            self.next_action = {
                "type": "redirect_to_url",
                "redirect_to_url": {"url": f"{_base_url[0]}/_test/3ds/{self.id}", "return_url": self.return_url},
            }

    def _report_failure(self):
        try:
            original_report_failure(self)
        except UserError as error:
            if error.code == 402:  # Stripe's card errors say which PaymentIntent failed
                error.body["error"].update(type="card_error", payment_intent=self._export())
            raise

    intent_class.__init__ = __init__
    intent_class._confirm = _confirm
    intent_class._report_failure = _report_failure


async def _cancel(request, intent_id):
    data = await server.get_post_data(request) or {}
    data.pop("expand", None)
    reason = data.pop("cancellation_reason", None)
    if data:
        raise _unknown(*data)
    if reason not in CANCELLATION_REASONS:
        raise UserError(400, f"Invalid cancellation_reason: {reason}", {"param": "cancellation_reason"})
    intent = resources.PaymentIntent._api_retrieve(intent_id)
    if intent.status not in CANCELABLE:
        raise UserError(
            400,
            (
                f"You cannot cancel this PaymentIntent because it has a status of {intent.status}. Only a "
                f"PaymentIntent with one of the following statuses may be canceled: {', '.join(CANCELABLE)}."
            ),
            {"code": "payment_intent_unexpected_state", "payment_intent": intent._export()},
        )
    resources.PaymentIntent._api_cancel(intent_id)
    intent.cancellation_reason = reason
    return server.json_response(intent._export())


def _search(request):
    match = re.fullmatch(r"metadata\['([^']+)'\]:'((?:[^'\\]|\\.)*)'", request.query.get("query", ""))
    if not match:
        raise UserError(400, "This emulator searches only metadata['<key>']:'<value>'.", {"param": "query"})
    key, value = match[1], re.sub(r"\\(.)", r"\1", match[2])
    found = [
        intent._export()
        for name, intent in resources.store.items()
        if name.startswith("payment_intent:") and (intent.metadata or {}).get(key) == value
    ]
    return server.json_response(
        {"object": "search_result", "url": request.path, "has_more": False, "next_page": None, "data": found}
    )


@web.middleware
async def stripe_api_fixes(request, handler):
    """Endpoints localstripe lacks or routes elsewhere (`search` would be a PaymentIntent id)."""
    if request.method == "GET" and request.path == "/v1/payment_intents/search":
        return _search(request)
    match = re.fullmatch(r"/v1/payment_intents/([^/]+)/cancel", request.path)
    if request.method == "POST" and match:
        return await _cancel(request, match[1])
    return await handler(request)


# -- test controls: the clock and the bank's 3-D Secure page --------------------------------------
def _three_d_secure_page(request, intent_id):
    intent = resources.PaymentIntent._api_retrieve(intent_id)
    outcome = request.query.get("outcome")
    if outcome not in ("complete", "fail"):
        links = "".join(
            f'<p><a href="?outcome={choice}">{choice.title()} authentication</a></p>' for choice in ("complete", "fail")
        )
        return web.Response(text=f"<!doctype html><title>3-D Secure test page</title>{links}", content_type="text/html")
    if intent.status == "requires_action":
        try:
            resources.PaymentIntent._api_authenticate(
                intent_id, client_secret=intent.client_secret, success=outcome == "complete"
            )
        except UserError as error:
            if error.code != 402:  # a decline after authentication is an answer too
                raise
    status = "succeeded" if intent.status == "succeeded" else "failed"
    query = urlencode(
        {"payment_intent": intent.id, "payment_intent_client_secret": intent.client_secret, "redirect_status": status}
    )
    separator = "&" if "?" in intent.return_url else "?"
    raise web.HTTPFound(f"{intent.return_url}{separator}{query}")


@web.middleware
async def test_controls(request, handler):
    """Not Stripe's: what tests use to move time and to play the backer's bank."""
    if request.method == "POST" and request.path == "/_test/advance-clock":
        _clock["offset"] += float(request.query.get("seconds", 0))
        return web.json_response({"now": now()})
    match = re.fullmatch(r"/_test/3ds/([^/]+)", request.path)
    if request.method == "GET" and match:
        try:
            return _three_d_secure_page(request, match[1])
        except UserError as error:
            return error.to_response()
    return await handler(request)


# -- idempotency ------------------------------------------------------------------------------------
def _saved_by_stripe(status, text):
    if status < 400 or status == 402:
        return True
    if status != 400:
        return False
    try:
        return json.loads(text)["error"].get("code") in EXECUTION_ERRORS
    except (ValueError, KeyError, AttributeError):
        return False


@web.middleware
async def idempotency(request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    body = await request.read()
    scope = (request.headers.get("Authorization", ""), key)
    if scope in _replies and now() - _replies[scope][0] >= KEY_LIFETIME:
        del _replies[scope]  # forgotten: the same key now makes a new request
    if scope in _replies:
        _, path, first_body, status, text = _replies[scope]
        if (path, first_body) != (request.path, body):
            error = {
                "error": {
                    "type": "idempotency_error",
                    "message": (
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with."
                    ),
                }
            }
            return web.json_response(error, status=400)
        return web.Response(
            text=text, status=status, content_type="application/json", headers={"Idempotent-Replayed": "true"}
        )
    response = await handler(request)
    if _saved_by_stripe(response.status, response.text):
        _replies[scope] = (now(), request.path, body, response.status, response.text)
    return response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _base_url.append(f"http://127.0.0.1:{args.port}")
    _keep_state_in_memory()
    _patch_payment_intents()
    # Outermost first: test controls, idempotency, then localstripe's own (errors, auth,
    # store); our API fixes run last, once localstripe has checked the API key.
    server.app.middlewares[:0] = [test_controls, idempotency]
    server.app.middlewares.append(stripe_api_fixes)
    web.run_app(server.app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
