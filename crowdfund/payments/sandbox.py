"""SandboxGateway: a payment processor that lives in our database, for demos and tests.

It keeps its own book (`sandbox_operations`) written on a connection of its own and
committed at once, so it behaves like an outside processor: what it did survives a
rollback or crash on our side, and a retried call with the same idempotency key returns
the first result instead of moving money twice.
"""
import hashlib
import hmac
import json
import random
import secrets
import threading

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from ..database import bulk_insert, insert_new_returning, one_of
from ..extensions import db
from ..models import SandboxOperation, utcnow
from .base import ChargeResult, GatewayError, MoneyMovement, PaymentGateway, TransientGatewayError, WebhookEventData

# Test payment methods, named like Stripe's.
SUCCEEDING_METHODS = {"pm_card_visa", "pm_card_mastercard", "pm_card_amex", "pm_card_unionpay",
                      "pm_card_visa_debit"}
DECLINES = {
    "pm_card_chargeDeclined": ("card_declined", "Your card was declined."),
    "pm_card_insufficientFunds": ("insufficient_funds", "Your card has insufficient funds."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "Your card has expired."),
    "pm_card_authenticationRequired": ("authentication_required",
                                       "Your bank asks you to confirm this payment; please use another card."),
}
TEST_CARDS = [
    ("pm_card_visa", "Visa •••• 4242 (succeeds)"),
    ("pm_card_mastercard", "Mastercard •••• 4444 (succeeds)"),
    ("pm_card_unionpay", "UnionPay •••• 0005 (succeeds)"),
    ("pm_card_chargeDeclined", "Visa •••• 0002 (declined)"),
    ("pm_card_insufficientFunds", "Visa •••• 9995 (insufficient funds)"),
]


class FaultPlan:
    """Makes the sandbox fail transiently, for tests: a rate, or the next N calls."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.rate = 0.0
            self.fail_next = 0
            self.kinds = {"charge", "refund", "payout"}
            self.after_commit = False  # fail *after* recording: the reply is lost, the work is done
            self._random = random.Random(0)

    def configure(self, *, rate=None, fail_next=None, kinds=None, after_commit=None, seed=0):
        with self._lock:
            if rate is not None:
                self.rate = rate
            if fail_next is not None:
                self.fail_next = fail_next
            if kinds is not None:
                self.kinds = set(kinds)
            if after_commit is not None:
                self.after_commit = after_commit
            self._random = random.Random(seed)

    def active(self):
        with self._lock:
            return self.rate > 0 or self.fail_next > 0

    def should_fail(self, kind):
        with self._lock:
            if kind not in self.kinds:
                return False
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return self.rate > 0 and self._random.random() < self.rate


# Every charge and refund runs them: built once (see services/pledges.py).
_OPERATIONS = SandboxOperation.__table__
_OPERATION_BY_KEY = select(_OPERATIONS).where(_OPERATIONS.c.idempotency_key == bindparam("key"))


class SandboxGateway(PaymentGateway):
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

    def _record(self, kind, idempotency_key, params, decide, *, look_first=True):
        """Return the operation recorded under `idempotency_key`, recording it if new.

        `decide(conn)` returns the columns of a new operation. With `look_first` it runs only
        the first time; without (a `decide` that reads nothing and cannot refuse, as for a
        charge), the insert is tried straight away and a replay costs one more read.
        """
        # Check `after_commit` first: `should_fail` uses up one of `fail_next`.
        if not self.faults.after_commit and self.faults.should_fail(kind):
            raise TransientGatewayError("The sandbox processor timed out (injected fault).")
        with self._engine().begin() as conn:
            existing = self._find(conn, idempotency_key) if look_first else None
            if existing is None:
                row = {"id": f"{kind[:2]}_sbx_{secrets.token_hex(10)}", "idempotency_key": idempotency_key,
                       "kind": kind, "created_at": utcnow(), **decide(conn)}
                # ON CONFLICT DO NOTHING: a concurrent retry that won the race leaves no row
                # to return, and we read theirs (no savepoint needed).
                written = conn.execute(insert_new_returning(_OPERATIONS, "idempotency_key", _OPERATIONS.c.id,
                                                            dialect_name=conn.dialect.name), row).first()
                existing = row if written is not None else self._find(conn, idempotency_key)
        for key, value in params.items():
            if existing.get(key) != value:
                raise GatewayError(f"Idempotency key {idempotency_key} was used with different "
                                   f"parameters ({key}).", code="idempotency_conflict")
        if self.faults.after_commit and self.faults.should_fail(kind):
            raise TransientGatewayError("The sandbox processor's reply was lost (injected fault).")
        return existing

    # -- the interface ----------------------------------------------------------------------
    def charge(self, *, amount, currency, payment_method, idempotency_key, transfer_group,
               description="", metadata=None):
        if payment_method not in SUCCEEDING_METHODS and payment_method not in DECLINES:
            return ChargeResult(ok=False, decline_code="invalid_payment_method",
                                message="That payment method is not one of the sandbox test cards.")

        def decide(_conn):
            decline = DECLINES.get(payment_method)
            return {"status": "declined" if decline else "succeeded", "amount": amount,
                    "currency": currency, "payment_method": payment_method, "reference": transfer_group,
                    "decline_code": decline[0] if decline else None, "extra": metadata or None}

        op = self._record("charge", idempotency_key,
                          {"amount": amount, "currency": currency, "payment_method": payment_method}, decide,
                          look_first=False)
        if op["status"] == "succeeded":
            return ChargeResult(ok=True, ref=op["id"])
        return ChargeResult(ok=False, ref=op["id"], decline_code=op["decline_code"],
                            message=DECLINES[op["payment_method"]][1])

    def refund(self, *, charge_ref, amount, currency, idempotency_key):
        def decide(conn):
            charge = conn.execute(select(SandboxOperation.__table__).where(
                SandboxOperation.id == charge_ref, SandboxOperation.kind == "charge")).mappings().first()
            if charge is None or charge["status"] != "succeeded":
                raise GatewayError(f"No succeeded charge {charge_ref} to refund.", code="charge_not_found")
            refunded = sum(conn.execute(select(SandboxOperation.amount).where(
                SandboxOperation.kind == "refund", SandboxOperation.reference == charge_ref)).scalars())
            if refunded + amount > charge["amount"] or charge["currency"] != currency:
                raise GatewayError(f"Refund of {amount} {currency} exceeds what is left of {charge_ref}.",
                                   code="amount_too_large")
            return {"status": "succeeded", "amount": amount, "currency": currency, "reference": charge_ref}

        op = self._record("refund", idempotency_key,
                          {"amount": amount, "currency": currency, "reference": charge_ref}, decide)
        return MoneyMovement(ref=op["id"], amount=op["amount"], currency=op["currency"])

    def refund_many(self, requests):
        """Refund a batch in ONE processor transaction (as a processor's batch API would).

        Same answers as calling `refund` for each request in order (a MoneyMovement or the
        GatewayError, per request), with three queries and one INSERT for the whole batch
        instead of a transaction and three queries per refund. While faults are injected
        (tests), and when a concurrent call recorded one of the keys first, each request
        goes through `refund` on its own, so every guarantee stays exactly that of `refund`.
        """
        requests = list(requests)
        if not requests or self.faults.active():
            return super().refund_many(requests)
        try:
            return self._refund_batch(requests)
        except IntegrityError:  # a concurrent retry recorded some of these keys: one by one
            return super().refund_many(requests)

    def _refund_batch(self, requests):
        table = SandboxOperation.__table__
        keys = list({r.idempotency_key for r in requests})
        refs = list({r.charge_ref for r in requests})
        with self._engine().begin() as conn:
            dialect = conn.dialect.name
            existing, charges, refunded = {}, {}, {}
            for start in range(0, max(len(keys), len(refs)), 1000):
                chunk_keys, chunk_refs = keys[start:start + 1000], refs[start:start + 1000]
                if chunk_keys:
                    for row in conn.execute(select(table).where(one_of(table.c.idempotency_key, chunk_keys, dialect))).mappings():
                        existing[row["idempotency_key"]] = dict(row)
                if chunk_refs:
                    for row in conn.execute(select(table.c.id, table.c.status, table.c.amount, table.c.currency)
                                            .where(one_of(table.c.id, chunk_refs, dialect),
                                                   table.c.kind == "charge")).mappings():
                        charges[row["id"]] = row
                    refunded.update(conn.execute(
                        select(table.c.reference, func.sum(table.c.amount))
                        .where(table.c.kind == "refund", one_of(table.c.reference, chunk_refs, dialect))
                        .group_by(table.c.reference)).all())
            results, new_rows, now = [], [], utcnow()
            for request in requests:
                op = existing.get(request.idempotency_key)
                if op is None:
                    charge = charges.get(request.charge_ref)
                    if charge is None or charge["status"] != "succeeded":
                        results.append(GatewayError(f"No succeeded charge {request.charge_ref} to refund.",
                                                    code="charge_not_found"))
                        continue
                    already = int(refunded.get(request.charge_ref) or 0)
                    if already + request.amount > charge["amount"] or charge["currency"] != request.currency:
                        results.append(GatewayError(f"Refund of {request.amount} {request.currency} exceeds what "
                                                    f"is left of {request.charge_ref}.", code="amount_too_large"))
                        continue
                    op = {"id": f"re_sbx_{secrets.token_hex(10)}", "idempotency_key": request.idempotency_key,
                          "kind": "refund", "status": "succeeded", "amount": request.amount,
                          "currency": request.currency, "reference": request.charge_ref, "created_at": now}
                    refunded[request.charge_ref] = already + request.amount
                    existing[request.idempotency_key] = op  # the same key again in this batch replays it
                    new_rows.append(op)
                mismatch = next((name for name, value in (("amount", request.amount), ("currency", request.currency),
                                                          ("reference", request.charge_ref))
                                 if op.get(name) != value), None)
                if mismatch:
                    results.append(GatewayError(f"Idempotency key {request.idempotency_key} was used with different "
                                                f"parameters ({mismatch}).", code="idempotency_conflict"))
                else:
                    results.append(MoneyMovement(ref=op["id"], amount=op["amount"], currency=op["currency"]))
            if new_rows:
                bulk_insert(conn, table, new_rows)
        return results

    def payout(self, *, amount, currency, destination, idempotency_key, transfer_group):
        if not destination or not destination.startswith("acct_"):
            raise GatewayError(f"{destination!r} is not a payout account.", code="invalid_destination")

        def decide(_conn):
            return {"status": "succeeded", "amount": amount, "currency": currency, "reference": destination,
                    "extra": {"transfer_group": transfer_group}}

        op = self._record("payout", idempotency_key,
                          {"amount": amount, "currency": currency, "reference": destination}, decide)
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
            raise GatewayError("The webhook body is not a sandbox event.", code="bad_payload")
