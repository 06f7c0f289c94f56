"""SandboxGateway: a payment processor that lives in our database, for demos and tests.

It keeps its own book (`sandbox_operations`) written on a connection of its own and
committed at once, so it behaves like an outside processor: what it did survives a
rollback or crash on our side, and a retried call with the same idempotency key returns
the first result instead of moving money twice.

It models Stripe's asynchronous payments too. A 3-D Secure card or a wallet (Alipay,
WeChat Pay) answers `requires_action` with a page of the sandbox's own
(crowdfund/web/sandbox: the bank, or the wallet) where whoever plays the backer completes
or fails the payment; `retrieve` and `cancel` then behave as Stripe's. Every change queues
a signed webhook event in the same sandbox transaction (sandbox_events.py), which
crowdfund/jobs/sandbox_webhooks.py delivers in the background. Refunds, and a refund the
backer's bank refuses after it succeeded (`fail_refund`), are in sandbox_refunds.py.

SANDBOX_LATENCY (seconds, 0 by default) makes every call our side makes to it (a charge,
retrieve, cancel, refund, payout, reversal, the onboarding calls, the activity list) take
about as long as a real processor's, SANDBOX_LATENCY_JITTER (a fraction) either way. The
wait comes before the sandbox opens its own connection: a real processor takes its time on
the network and on its side, not holding a connection or a lock of ours meanwhile.
"""

import hashlib
import hmac
import json
import random
import secrets
import time

from flask import has_request_context, request as http_request, url_for
from sqlalchemy import bindparam, select, update
from werkzeug.routing import BuildError

from ..database import insert_new_returning
from ..domain.clock import utcnow
from ..extensions import db
from ..models import SandboxOperation
from ..request_gate import processor_wait
from . import sandbox_book, sandbox_events
from .base import (
    ChargeResult,
    GatewayError,
    MoneyMovement,
    NextAction,
    PaymentGateway,
    TransientGatewayError,
    WebhookEventData,
)
from .sandbox_accounts import SandboxAccountsMixin
from .sandbox_disputes import SandboxDisputesMixin
from .sandbox_faults import REFUSED, FaultPlan, refusal_message
from .sandbox_methods import ACTION_FAILURES, ACTION_METHODS, DECLINES, SUCCEEDING_METHODS, WALLETS
from .sandbox_refunds import SandboxRefundsMixin

PAY_PATH = "/sandbox/pay/{}"  # the page standing in for the bank or wallet (crowdfund/web/sandbox)
# app.extensions key of a callable (no arguments) run after the sandbox commits webhook
# events, in the caller's context. crowdfund/web/sandbox installs
# jobs.sandbox_webhooks.wake_delivery there (deliver once the caller's own transaction
# commits): the payments layer cannot import jobs, which import services, which import it.
EVENTS_HOOK = "sandbox.events_recorded"


# Every charge and refund runs them: built once (see services/pledges.py).
_OPERATIONS = SandboxOperation.__table__
_OPERATION_BY_KEY = select(_OPERATIONS).where(_OPERATIONS.c.idempotency_key == bindparam("key"))
_OPERATION_BY_ID = select(_OPERATIONS).where(_OPERATIONS.c.id == bindparam("ref"))


class SandboxGateway(SandboxRefundsMixin, SandboxDisputesMixin, SandboxAccountsMixin, PaymentGateway):
    name = "sandbox"

    def __init__(self, app):
        self.app = app
        self.faults = FaultPlan()
        self.webhook_secret = (app.config.get("SANDBOX_WEBHOOK_SECRET") or app.config["SECRET_KEY"]).encode()

    # -- the processor's book -------------------------------------------------------------
    def _engine(self):
        with self.app.app_context():
            return db.engine

    def _find(self, conn, idempotency_key):
        return conn.execute(_OPERATION_BY_KEY, {"key": idempotency_key}).mappings().first()

    def _call(self, kind):
        """A call of `kind` reaches the processor: the time the network and the processor take
        (SANDBOX_LATENCY), then any fault injected before it does anything."""
        self._wait()
        self._fault(kind, after=False)

    def _wait(self):
        """SANDBOX_LATENCY seconds, give or take SANDBOX_LATENCY_JITTER of it (uniformly). Holds
        no connection: call it before the sandbox's own transaction."""
        config = self.app.config
        latency = float(config.get("SANDBOX_LATENCY") or 0)
        if latency > 0:
            jitter = min(max(float(config.get("SANDBOX_LATENCY_JITTER") or 0), 0.0), 1.0)
            with processor_wait(self.app):  # its turn goes to another request meanwhile
                time.sleep(latency * random.uniform(1 - jitter, 1 + jitter))

    def _fault(self, kind, *, after):
        # `after` faults hit once the work is done (the reply is lost); check the mode first:
        # `should_fail` uses up one of `fail_next`.
        if self.faults.after_commit == after and self.faults.should_fail(kind):
            raise TransientGatewayError(
                "The sandbox processor's reply was lost (injected fault)."
                if after
                else "The sandbox processor timed out (injected fault)."
            )

    def _queue_events(self, conn, events):
        """Queue webhook `events` ([(type, object)]) in the transaction of `conn`."""
        if not events or not self.app.config.get("SANDBOX_WEBHOOKS", True):
            return 0
        return sandbox_events.queue(conn, events)

    def _events_recorded(self):
        hook = self.app.extensions.get(EVENTS_HOOK)
        if hook is not None:
            hook()

    def _record(self, kind, idempotency_key, params, decide, *, look_first=True, events=None):
        """Return the operation recorded under `idempotency_key`, recording it if new.

        `decide(conn)` returns the columns of a new operation. With `look_first` it runs only
        the first time; without (a `decide` that reads nothing and cannot refuse, as for a
        charge), the insert is tried straight away and a replay costs one more read.
        `events(row)` gives the webhook events of a new operation, written with it.
        """
        self._call(kind)
        queued = 0
        with self._engine().begin() as conn:
            existing = self._find(conn, idempotency_key) if look_first else None
            if existing is None:
                # An injected refusal is kept under its key, as Stripe keeps its answer: the
                # same key again is refused again (a new try needs a new key).
                refused = self.faults.refusal(kind)
                columns = {**params, "status": REFUSED, "decline_code": refused} if refused else decide(conn)
                row = {
                    "id": f"{kind[:2]}_sbx_{secrets.token_hex(10)}",
                    "idempotency_key": idempotency_key,
                    "kind": kind,
                    "created_at": utcnow(),
                    **columns,
                }
                # ON CONFLICT DO NOTHING: a concurrent retry that won the race leaves no row
                # to return, and we read theirs (no savepoint needed).
                written = conn.execute(
                    insert_new_returning(
                        _OPERATIONS, "idempotency_key", _OPERATIONS.c.id, dialect_name=conn.dialect.name
                    ),
                    row,
                ).first()
                existing = row if written is not None else self._find(conn, idempotency_key)
                if written is not None and events is not None and not refused:
                    queued = self._queue_events(conn, events(row))
        if queued:
            self._events_recorded()
        for key, value in params.items():
            if existing.get(key) != value:
                raise GatewayError(
                    f"Idempotency key {idempotency_key} was used with different parameters ({key}).",
                    code="idempotency_conflict",
                )
        if existing["status"] == REFUSED:
            raise GatewayError(
                f"{refusal_message(existing['decline_code'], kind)} (injected)", code=existing["decline_code"]
            )
        self._fault(kind, after=True)
        return existing

    def operation(self, ref):
        """The sandbox's record of `ref` as a dict, or None (its own pages; no faults)."""
        with self._engine().connect() as conn:
            row = conn.execute(_OPERATION_BY_ID, {"ref": ref}).mappings().first()
        return dict(row) if row is not None else None

    def _change(self, ref, status, decline_code):
        """Move the charge `ref` from requires_action to `status`, with its event, in one
        sandbox transaction; a charge in any other state is left as it is. Returns the row."""
        queued = 0
        with self._engine().begin() as conn:
            op = conn.execute(_OPERATION_BY_ID, {"ref": ref}).mappings().first()
            if op is None or op["kind"] != "charge":
                raise GatewayError(f"No such payment: {ref}.", code="resource_missing")
            fee = self._fee_of(op["amount"]) if status == "succeeded" else None
            changed = conn.execute(
                update(_OPERATIONS)
                .where(_OPERATIONS.c.id == ref, _OPERATIONS.c.status == "requires_action")
                .values(status=status, decline_code=decline_code, fee=fee)
            ).rowcount
            op = conn.execute(_OPERATION_BY_ID, {"ref": ref}).mappings().first()
            if changed:
                queued = self._queue_events(conn, [(sandbox_events.INTENT_EVENT[status], self._intent(op))])
        if queued:
            self._events_recorded()
        return dict(op)

    # -- what the processor says about a charge ---------------------------------------------
    def page_url(self, ref):
        """The sandbox's bank / wallet page for the charge `ref`."""
        return self.public_url("sandbox.pay", PAY_PATH.format(ref), op_id=ref)

    def public_url(self, endpoint, path, **values):
        """One of the sandbox's own pages: absolute in a request (or with SANDBOX_PUBLIC_URL),
        since a backer's browser or phone, or a founder's, is sent there."""
        if has_request_context():
            try:
                return url_for(endpoint, _external=True, **values)
            except BuildError:  # an app without the sandbox's pages
                return http_request.host_url.rstrip("/") + path
        base = self.app.config.get("SANDBOX_PUBLIC_URL")
        return base.rstrip("/") + path if base else path

    def _fee_of(self, amount):
        """What the sandbox keeps of a successful charge, shaped like card pricing: a share
        (SANDBOX_FEE_BPS) plus a fixed part (SANDBOX_FEE_FIXED minor units), never more than
        the charge."""
        config = self.app.config
        bps, fixed = int(config.get("SANDBOX_FEE_BPS", 290)), int(config.get("SANDBOX_FEE_FIXED", 30))
        return min(amount, amount * bps // 10_000 + fixed)

    def _next_action(self, op):
        return NextAction(type=ACTION_METHODS.get(op["payment_method"], "redirect_to_url"), url=self.page_url(op["id"]))

    def _decline_message(self, op):
        plain = DECLINES.get(op["payment_method"])
        if plain is not None and plain[0] == op["decline_code"]:
            return plain[1]
        return ACTION_FAILURES.get(op["decline_code"], "The payment was declined.")

    def _intent(self, op):
        """The charge as a Stripe PaymentIntent, for its webhook events."""
        error = self._decline_message(op) if op["status"] == "declined" else None
        return sandbox_events.payment_intent(
            op,
            error=sandbox_events.payment_error(op, error) if error else None,
            action=self._next_action(op) if op["status"] == "requires_action" else None,
        )

    def _answer(self, op, *, first=False):
        """The ChargeResult for the charge `op`. `first`: the answer to the charge call itself,
        which a replay of its key repeats (as Stripe replays the first response): a payment
        that waited for the backer is `requires_action` there whatever became of it since;
        `retrieve` tells what it is now."""
        status = "requires_action" if first and op["payment_method"] in ACTION_METHODS else op["status"]
        common = {"ref": op["id"], "amount": op["amount"], "currency": op["currency"]}
        if status == "succeeded":
            return ChargeResult(ok=True, fee=op.get("fee"), **common)
        if status == "requires_action":
            return ChargeResult(ok=False, requires_action=True, next_action=self._next_action(op), **common)
        return ChargeResult(ok=False, decline_code=op["decline_code"], message=self._decline_message(op), **common)

    # -- the interface ----------------------------------------------------------------------
    def charge(
        self,
        *,
        amount,
        currency,
        payment_method,
        idempotency_key,
        transfer_group,
        description="",
        metadata=None,
        return_url=None,
    ):
        action = ACTION_METHODS.get(payment_method)
        decline = DECLINES.get(payment_method)
        if payment_method not in SUCCEEDING_METHODS and decline is None and action is None:
            return ChargeResult(
                ok=False,
                decline_code="invalid_payment_method",
                message="That payment method is not one of the sandbox test cards.",
            )
        status = "requires_action" if action else "declined" if decline else "succeeded"

        def decide(_conn):
            return {
                "status": status,
                "amount": amount,
                "currency": currency,
                "payment_method": payment_method,
                "reference": transfer_group,
                "decline_code": decline[0] if decline else None,
                "fee": self._fee_of(amount) if status == "succeeded" else None,
                "extra": {
                    "metadata": metadata or {},
                    "transfer_group": transfer_group,
                    "return_url": return_url,
                    "description": description or None,
                },
            }

        op = self._record(
            "charge",
            idempotency_key,
            {"amount": amount, "currency": currency, "payment_method": payment_method},
            decide,
            look_first=False,
            events=lambda row: [(sandbox_events.INTENT_EVENT[status], self._intent(row))],
        )
        return self._answer(self._dispute_later(op), first=True)

    def retrieve(self, ref):
        self._call("retrieve")
        op = self.operation(ref)
        if op is None or op["kind"] != "charge":
            raise GatewayError(f"No such payment: {ref}.", code="resource_missing")
        self._fault("retrieve", after=True)
        return self._answer(op)

    def find_charge(self, idempotency_key):
        """The charge made under `idempotency_key` as it is now, or None (nothing was taken)."""
        self._call("retrieve")
        with self._engine().connect() as conn:
            op = self._find(conn, idempotency_key)
        return self._answer(dict(op)) if op is not None and op["kind"] == "charge" else None

    def cancel(self, ref, *, idempotency_key):
        # The key needs no record here: the only change a cancel makes (requires_action ->
        # canceled) is final, so a replay finds the payment as the first call left it and
        # answers as it did.
        self._call("cancel")
        op = self._change(ref, "canceled", "canceled")
        self._fault("cancel", after=True)
        return self._answer(op)

    def complete(self, ref, *, succeed):
        """The backer's answer on the sandbox's bank or wallet page: the payment succeeds, or
        fails (authentication_failed for a card, payment_failed in a wallet). Only a payment
        still waiting for it changes. Returns what the payment is now."""
        op = self.operation(ref)
        if op is None or op["kind"] != "charge":
            raise GatewayError(f"No such payment: {ref}.", code="resource_missing")
        if succeed:
            return self._answer(self._change(ref, "succeeded", None))
        code = "payment_failed" if op["payment_method"] in WALLETS else "authentication_failed"
        return self._answer(self._change(ref, "declined", code))

    def activity(self, *, since=None, until=None):
        self._wait()
        with self._engine().connect() as conn:
            return sandbox_book.activity(conn, since=since, until=until)

    def payout(self, *, amount, currency, destination, idempotency_key, transfer_group):
        if not destination or not destination.startswith("acct_"):
            raise GatewayError(f"{destination!r} is not a payout account.", code="invalid_destination")

        def decide(_conn):
            return {
                "status": "succeeded",
                "amount": amount,
                "currency": currency,
                "reference": destination,
                "extra": {"transfer_group": transfer_group},
            }

        op = self._record(
            "payout",
            idempotency_key,
            {"amount": amount, "currency": currency, "reference": destination},
            decide,
            events=lambda row: [("transfer.created", sandbox_events.transfer(row))],
        )
        return MoneyMovement(ref=op["id"], amount=op["amount"], currency=op["currency"])

    # -- webhooks: HMAC-signed JSON, like Stripe's scheme in miniature ----------------------
    def sign(self, payload: bytes):
        return hmac.new(self.webhook_secret, payload, hashlib.sha256).hexdigest()

    def parse_webhook(self, payload, headers):
        signature = headers.get("Sandbox-Signature", "")
        if not hmac.compare_digest(signature, self.sign(payload)):
            raise GatewayError("The webhook signature does not match.", code="bad_signature")
        try:
            event = json.loads(payload)
            return WebhookEventData(id=event["id"], type=event["type"], data=event.get("data", {}))
        except (ValueError, KeyError, TypeError):
            raise GatewayError("The webhook body is not a sandbox event.", code="bad_payload") from None
