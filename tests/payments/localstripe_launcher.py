"""Run localstripe for the test suite: `python localstripe_launcher.py --port N`.

localstripe (https://github.com/adrienverge/localstripe, GPL-3.0) is a test-only tool; it
runs in a process of its own and nothing in `crowdfund` imports it. This launcher starts it
the way the suite needs:

- it listens on 127.0.0.1 only (the `localstripe` command binds every interface);
- its state stays in memory (the command pickles it to the shared /tmp/localstripe.pickle
  after every write, which parallel runs on one machine would fight over);
- PaymentIntents accept `transfer_group` and `description`, which Stripe accepts and
  localstripe rejects as "Unexpected" (it keeps them on the object and echoes them back);
- POST requests honour the `Idempotency-Key` header as Stripe documents it: the same key
  with the same parameters replays the first response (with `Idempotent-Replayed: true`),
  the same key with other parameters is a 400 `idempotency_error`. localstripe ignores
  the header, so without this a retried charge would make a second PaymentIntent.
"""
import argparse

from aiohttp import web
from localstripe import resources, server


def _keep_state_in_memory():
    resources.Store.dump_to_disk = lambda self: None


def _accept_payment_intent_fields():
    original = resources.PaymentIntent.__init__

    def __init__(self, *args, transfer_group=None, description=None, **kwargs):
        original(self, *args, **kwargs)
        self.transfer_group = transfer_group
        self.description = description

    resources.PaymentIntent.__init__ = __init__


_replies = {}


@web.middleware
async def idempotency(request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    body = await request.read()
    scope = (request.headers.get("Authorization", ""), key)
    if scope in _replies:
        path, first_body, status, text = _replies[scope]
        if (path, first_body) != (request.path, body):
            error = {"error": {"type": "idempotency_error", "message": (
                "Keys for idempotent requests can only be used with the same parameters "
                "they were first used with.")}}
            return web.json_response(error, status=400)
        return web.Response(text=text, status=status, content_type="application/json",
                            headers={"Idempotent-Replayed": "true"})
    response = await handler(request)
    if response.status < 500:
        _replies[scope] = (request.path, body, response.status, response.text)
    return response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _keep_state_in_memory()
    _accept_payment_intent_fields()
    server.app.middlewares.insert(0, idempotency)
    web.run_app(server.app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
