"""The sandbox processor's refunds: one, a batch, and one that fails after it succeeded.

A mixin of SandboxGateway (crowdfund/payments/sandbox.py), on its book and its webhook
events. As with Stripe, a refund is first accepted (`succeeded`) and may fail later, when
the backer's bank refuses it: `fail_refund(ref)` plays that bank. The refund's money comes
back to the processor's balance (the book lists it as a `refund_failure`), its charge can be
refunded again (under a new idempotency key), and a `refund.failed` event is sent.
"""

import secrets
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from ..database import bulk_insert, one_of
from ..domain.clock import utcnow
from ..models import SandboxOperation
from . import sandbox_events
from .base import GatewayError, MoneyMovement, RefundResult
from .sandbox_host import SandboxHost

_OPERATIONS = SandboxOperation.__table__
_OPERATION_BY_ID = select(_OPERATIONS).where(_OPERATIONS.c.id == bindparam("ref"))
# What is left of a charge counts only refunds that did not fail.
_REFUNDED = (_OPERATIONS.c.kind == "refund") & (_OPERATIONS.c.status == "succeeded")
DEFAULT_FAILURE = "expired_or_canceled_card"  # one of Stripe's refund failure reasons


class SandboxRefundsMixin(SandboxHost):
    def refund(self, *, charge_ref, amount, currency, idempotency_key):
        seen: dict[str, Any] = {}

        def decide(conn):
            charge = conn.execute(_OPERATION_BY_ID, {"ref": charge_ref}).mappings().first()
            if charge is None or charge["kind"] != "charge" or charge["status"] != "succeeded":
                raise GatewayError(f"No succeeded charge {charge_ref} to refund.", code="charge_not_found")
            refunded = sum(
                conn.execute(
                    select(_OPERATIONS.c.amount).where(_REFUNDED, _OPERATIONS.c.reference == charge_ref)
                ).scalars()
            )
            if refunded + amount > charge["amount"] or charge["currency"] != currency:
                raise GatewayError(
                    f"Refund of {amount} {currency} exceeds what is left of {charge_ref}.", code="amount_too_large"
                )
            seen.update(charge=charge, refunded=refunded + amount)
            return {"status": "succeeded", "amount": amount, "currency": currency, "reference": charge_ref}

        op = self._record(
            "refund",
            idempotency_key,
            {"amount": amount, "currency": currency, "reference": charge_ref},
            decide,
            events=lambda _row: [("charge.refunded", sandbox_events.refunded_charge(seen["charge"], seen["refunded"]))],
        )
        return MoneyMovement(ref=op["id"], amount=op["amount"], currency=op["currency"])

    def retrieve_refund(self, ref):
        self._call("retrieve")
        op = self.operation(ref)
        if op is None or op["kind"] != "refund":
            raise GatewayError(f"No such refund: {ref}.", code="resource_missing")
        return RefundResult(
            ref=op["id"],
            status=op["status"],
            amount=op["amount"],
            currency=op["currency"],
            charge_ref=op["reference"],
            key=op["idempotency_key"],
            failure_reason=op["decline_code"],
        )

    def fail_refund(self, ref, *, reason=DEFAULT_FAILURE):
        """The backer's bank refuses the refund `ref` after the sandbox accepted it (tests, demos):
        it becomes `failed` with `reason`, and `refund.failed` is sent. Returns the refund as
        `retrieve_refund` answers; a refund that is not `succeeded` is left as it is."""
        queued = 0
        with self._engine().begin() as conn:
            changed = conn.execute(
                update(_OPERATIONS)
                .where(_OPERATIONS.c.id == ref, _OPERATIONS.c.kind == "refund", _OPERATIONS.c.status == "succeeded")
                .values(status="failed", decline_code=reason)
            ).rowcount
            op = conn.execute(_OPERATION_BY_ID, {"ref": ref}).mappings().first()
            if op is None or op["kind"] != "refund":
                raise GatewayError(f"No such refund: {ref}.", code="resource_missing")
            if changed:
                queued = self._queue_events(conn, [("refund.failed", sandbox_events.refund(op))])
        if queued:
            self._events_recorded()
        return self.retrieve_refund(ref)

    def refund_many(self, requests):
        """Refund a batch in ONE processor transaction (as a processor's batch API would).

        Same answers as calling `refund` for each request in order (a MoneyMovement or the
        GatewayError, per request), with three queries and one INSERT (and the batch's
        `charge.refunded` events) for the whole batch instead of a transaction and three
        queries per refund. While faults are injected
        (tests), and when a concurrent call recorded one of the keys first, each request
        goes through `refund` on its own, so every guarantee stays exactly that of `refund`.
        """
        requests = list(requests)
        if not requests or self.faults.active():
            return super().refund_many(requests)
        self._wait()  # one call for the batch
        try:
            return self._refund_batch(requests)
        except IntegrityError:  # a concurrent retry recorded some of these keys: one by one
            return super().refund_many(requests)

    def _refund_batch(self, requests):
        table = _OPERATIONS
        keys = list({r.idempotency_key for r in requests})
        refs = list({r.charge_ref for r in requests})
        with self._engine().begin() as conn:
            dialect = conn.dialect.name
            existing, charges = {}, {}
            refunded: dict[str, int] = {}  # charge ref -> refunded so far
            for start in range(0, max(len(keys), len(refs)), 1000):
                chunk_keys, chunk_refs = keys[start : start + 1000], refs[start : start + 1000]
                if chunk_keys:
                    by_keys = select(table).where(one_of(table.c.idempotency_key, chunk_keys, dialect))
                    for row in conn.execute(by_keys).mappings():
                        existing[row["idempotency_key"]] = dict(row)
                if chunk_refs:
                    for row in conn.execute(
                        select(table).where(one_of(table.c.id, chunk_refs, dialect), table.c.kind == "charge")
                    ).mappings():
                        charges[row["id"]] = row
                    refunded.update(
                        conn.execute(
                            select(table.c.reference, func.sum(table.c.amount))
                            .where(_REFUNDED, one_of(table.c.reference, chunk_refs, dialect))
                            .group_by(table.c.reference)
                        ).all()
                    )
            results: list[MoneyMovement | GatewayError] = []
            new_rows, events, now = [], [], utcnow()
            for request in requests:
                op = existing.get(request.idempotency_key)
                if op is None:
                    charge = charges.get(request.charge_ref)
                    if charge is None or charge["status"] != "succeeded":
                        results.append(
                            GatewayError(
                                f"No succeeded charge {request.charge_ref} to refund.", code="charge_not_found"
                            )
                        )
                        continue
                    already = int(refunded.get(request.charge_ref) or 0)
                    if already + request.amount > charge["amount"] or charge["currency"] != request.currency:
                        results.append(
                            GatewayError(
                                f"Refund of {request.amount} {request.currency} exceeds what "
                                f"is left of {request.charge_ref}.",
                                code="amount_too_large",
                            )
                        )
                        continue
                    op = {
                        "id": f"re_sbx_{secrets.token_hex(10)}",
                        "idempotency_key": request.idempotency_key,
                        "kind": "refund",
                        "status": "succeeded",
                        "amount": request.amount,
                        "currency": request.currency,
                        "reference": request.charge_ref,
                        "created_at": now,
                    }
                    refunded[request.charge_ref] = already + request.amount
                    events.append(("charge.refunded", sandbox_events.refunded_charge(charge, already + request.amount)))
                    existing[request.idempotency_key] = op  # the same key again in this batch replays it
                    new_rows.append(op)
                mismatch = next(
                    (
                        name
                        for name, value in (
                            ("amount", request.amount),
                            ("currency", request.currency),
                            ("reference", request.charge_ref),
                        )
                        if op.get(name) != value
                    ),
                    None,
                )
                if mismatch:
                    results.append(
                        GatewayError(
                            f"Idempotency key {request.idempotency_key} was used with different "
                            f"parameters ({mismatch}).",
                            code="idempotency_conflict",
                        )
                    )
                else:
                    results.append(MoneyMovement(ref=op["id"], amount=op["amount"], currency=op["currency"]))
            if new_rows:
                bulk_insert(conn, table, new_rows)
            queued = self._queue_events(conn, events)
        if queued:
            self._events_recorded()
        return results
