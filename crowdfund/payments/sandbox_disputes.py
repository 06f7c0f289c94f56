"""The sandbox processor's disputes (chargebacks) and transfer reversals. `SandboxGateway`
inherits this.

A charge paid with the test card `pm_card_createDispute` (as Stripe's) succeeds, and the
sandbox then opens a dispute of it, as a card network would some time later: it records
the dispute in its book (`sandbox_operations`, kind `dispute`, with the dispute fee it
withdraws with the amount) and queues `charge.dispute.created`, held back
SANDBOX_DISPUTE_DELAY seconds. The page `/sandbox/disputes/<id>` (crowdfund/web/sandbox)
stands in for the card network's decision: `under_review` (evidence sent:
`charge.dispute.updated`), `won` (the amount comes back: a `reinstate` operation, and
`charge.dispute.closed`) or `lost` (`charge.dispute.closed`; the money stays with the
backer). The dispute fee is not given back, as with Stripe's card disputes.

`reverse_payout` takes money back from a firm's connected account (a `reversal`
operation), as Stripe's transfer reversals do, never more than the payout.
"""

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, func, select, update

from ..database import insert_new_returning
from ..domain.clock import utcnow
from ..models import SandboxOperation
from . import sandbox_events
from .base import DisputeInfo, GatewayError, MoneyMovement, ProcessorRecord
from .sandbox_host import SandboxHost

DISPUTE_METHOD = "pm_card_createDispute"
DISPUTE_PATH = "/sandbox/disputes/{}"  # the page standing in for the card network (crowdfund/web/sandbox)
OPEN = ("needs_response", "under_review")
# What a person can answer on that page -> the statuses a dispute may be in for it.
OUTCOMES = {"under_review": ("needs_response",), "won": OPEN, "lost": OPEN}
EVIDENCE_DAYS = 7  # the card network's deadline for the merchant's evidence, after the dispute opens

_OPERATIONS = SandboxOperation.__table__
_OPERATION_BY_ID = select(_OPERATIONS).where(_OPERATIONS.c.id == bindparam("ref"))
_OPERATION_BY_KEY = select(_OPERATIONS).where(_OPERATIONS.c.idempotency_key == bindparam("key"))


def _due_by(op):
    value = (op.get("extra") or {}).get("evidence_due_by")
    return datetime.fromisoformat(value).astimezone(timezone.utc) if value else None


def _reason(op):
    return (op.get("extra") or {}).get("reason") or "general"


class SandboxDisputesMixin(SandboxHost):
    """retrieve_dispute and reverse_payout of the sandbox; the dispute after a
    `pm_card_createDispute` charge; its page's `decide_dispute`. Needs SandboxGateway's
    `_engine`, `_call`, `_fault`, `operation` and events."""

    # -- a charge that will be disputed ------------------------------------------------------
    def _dispute_later(self, charge):
        """After the charge call: open the dispute of a succeeded `pm_card_createDispute`
        charge, once (a replay of the charge finds it). Returns the charge as it was given."""
        if charge["payment_method"] != DISPUTE_METHOD or charge["status"] != "succeeded":
            return charge
        config = self.app.config
        now = utcnow()
        row = {
            "id": f"dp_sbx_{secrets.token_hex(10)}",
            "idempotency_key": f"{charge['id']}-dispute",
            "kind": "dispute",
            "status": "needs_response",
            "amount": charge["amount"],
            "currency": charge["currency"],
            "reference": charge["id"],
            "fee": int(config.get("SANDBOX_DISPUTE_FEE", 1500)),
            "created_at": now,
            "extra": {"reason": "fraudulent", "evidence_due_by": (now + timedelta(days=EVIDENCE_DAYS)).isoformat()},
        }
        queued = 0
        with self._engine().begin() as conn:
            written = conn.execute(
                insert_new_returning(_OPERATIONS, "idempotency_key", _OPERATIONS.c.id, dialect_name=conn.dialect.name),
                row,
            ).first()
            if written is not None and config.get("SANDBOX_WEBHOOKS", True):
                delay = timedelta(seconds=float(config.get("SANDBOX_DISPUTE_DELAY", 2)))
                queued = sandbox_events.queue(
                    conn, [("charge.dispute.created", self._dispute_object(row))], delay=delay
                )
        if queued:
            self._events_recorded()
        return charge

    def _dispute_object(self, op):
        return sandbox_events.dispute(op, reason=_reason(op), due_by=_due_by(op))

    # -- the interface ---------------------------------------------------------------------------
    def retrieve_dispute(self, ref):
        self._call("retrieve")
        op = self.operation(ref)
        if op is None or op["kind"] != "dispute":
            raise GatewayError(f"No such dispute: {ref}.", code="resource_missing")
        charge = self.operation(op["reference"]) or {}
        pledge_id = str(((charge.get("extra") or {}).get("metadata") or {}).get("pledge_id") or "")
        self._fault("retrieve", after=True)
        return DisputeInfo(
            ref=op["id"],
            charge_ref=op["reference"],
            amount=op["amount"],
            currency=op["currency"],
            reason=_reason(op),
            status=op["status"],
            evidence_due_by=_due_by(op),
            fee=op["fee"] or 0,
            funds_withdrawn=op["amount"],
            funds_reinstated=op["amount"] if op["status"] == "won" else 0,
            evidence_url=self.dispute_url(op["id"]),
            pledge_id=int(pledge_id) if pledge_id.isdigit() else None,
        )

    def reverse_payout(self, payout_ref, *, amount, idempotency_key):
        self._call("reversal")
        queued = 0
        with self._engine().begin() as conn:
            op: Mapping[Any, Any] | None = conn.execute(_OPERATION_BY_KEY, {"key": idempotency_key}).mappings().first()
            if op is None:
                payout = conn.execute(_OPERATION_BY_ID, {"ref": payout_ref}).mappings().first()
                if payout is None or payout["kind"] != "payout" or payout["status"] != "succeeded":
                    raise GatewayError(f"No such transfer: {payout_ref}.", code="resource_missing")
                reversed_ = conn.execute(
                    select(func.coalesce(func.sum(_OPERATIONS.c.amount), 0)).where(
                        _OPERATIONS.c.kind == "reversal", _OPERATIONS.c.reference == payout_ref
                    )
                ).scalar_one()
                if int(reversed_) + amount > payout["amount"]:
                    raise GatewayError(
                        f"Reversal of {amount} exceeds what is left of transfer {payout_ref}.", code="amount_too_large"
                    )
                op = {
                    "id": f"trr_sbx_{secrets.token_hex(10)}",
                    "idempotency_key": idempotency_key,
                    "kind": "reversal",
                    "status": "succeeded",
                    "amount": amount,
                    "currency": payout["currency"],
                    "reference": payout_ref,
                    "created_at": utcnow(),
                }
                written = conn.execute(
                    insert_new_returning(
                        _OPERATIONS, "idempotency_key", _OPERATIONS.c.id, dialect_name=conn.dialect.name
                    ),
                    op,
                ).first()
                if written is None:  # a concurrent retry with the same key won: theirs stands
                    op = conn.execute(_OPERATION_BY_KEY, {"key": idempotency_key}).mappings().one()
                elif self.app.config.get("SANDBOX_WEBHOOKS", True):
                    reversal = {
                        "id": op["id"],
                        "object": "transfer_reversal",
                        "amount": amount,
                        "currency": op["currency"].lower(),
                        "transfer": payout_ref,
                    }
                    queued = sandbox_events.queue(
                        conn,
                        [
                            (
                                "transfer.reversed",
                                {
                                    **sandbox_events.transfer(payout),
                                    "amount_reversed": int(reversed_) + amount,
                                    "reversals": {"object": "list", "data": [reversal]},
                                },
                            )
                        ],
                    )
        if queued:
            self._events_recorded()
        if op["reference"] != payout_ref or op["amount"] != amount:
            raise GatewayError(
                f"Idempotency key {idempotency_key} was used with different parameters.", code="idempotency_conflict"
            )
        self._fault("reversal", after=True)
        return MoneyMovement(ref=op["id"], amount=op["amount"], currency=op["currency"])

    # -- the sandbox's page for the card network's decision ----------------------------------------
    def dispute_url(self, ref):
        """Where the dispute `ref` is answered: a path on this site, or absolute with
        SANDBOX_PUBLIC_URL. Kept on our dispute row and shown to admins, so never the host of
        whichever request (a webhook delivered in-process) happened to look it up."""
        path = DISPUTE_PATH.format(ref)
        base = self.app.config.get("SANDBOX_PUBLIC_URL")
        return base.rstrip("/") + path if base else path

    def decide_dispute(self, ref, outcome):
        """The card network's decision (or the evidence sent), with its event. Only a dispute
        still open to that answer changes; a second answer changes nothing. Returns the dispute."""
        if outcome not in OUTCOMES:
            raise GatewayError(f"{outcome!r} is not a dispute outcome.", code="invalid_outcome")
        queued = 0
        with self._engine().begin() as conn:
            changed = conn.execute(
                update(_OPERATIONS)
                .where(
                    _OPERATIONS.c.id == ref,
                    _OPERATIONS.c.kind == "dispute",
                    _OPERATIONS.c.status.in_(OUTCOMES[outcome]),
                )
                .values(status=outcome)
            ).rowcount
            op: Mapping[Any, Any] | None = conn.execute(_OPERATION_BY_ID, {"ref": ref}).mappings().first()
            if op is None or op["kind"] != "dispute":
                raise GatewayError(f"No such dispute: {ref}.", code="resource_missing")
            op = dict(op)
            events = []
            if changed and outcome == "won":
                conn.execute(
                    insert_new_returning(
                        _OPERATIONS, "idempotency_key", _OPERATIONS.c.id, dialect_name=conn.dialect.name
                    ),
                    {
                        "id": f"rn_sbx_{secrets.token_hex(10)}",
                        "idempotency_key": f"{ref}-reinstate",
                        "kind": "reinstate",
                        "status": "succeeded",
                        "amount": op["amount"],
                        "currency": op["currency"],
                        "reference": ref,
                        "fee": 0,
                        "created_at": utcnow(),
                        "extra": {"charge": op["reference"]},
                    },
                )
                events.append(("charge.dispute.funds_reinstated", self._dispute_object(op)))
            if changed:
                kind = "charge.dispute.updated" if outcome == "under_review" else "charge.dispute.closed"
                events.append((kind, self._dispute_object(op)))
                if self.app.config.get("SANDBOX_WEBHOOKS", True):
                    queued = sandbox_events.queue(conn, events)
        if queued:
            self._events_recorded()
        return op


def dispute_activity(conn, *, since=None, until=None):
    """Disputes, their money given back and transfer reversals in the sandbox's book, as
    ProcessorRecords (`sandbox_book.activity` lists them with the rest)."""
    ops = _OPERATIONS.c
    query = (
        select(ops.id, ops.kind, ops.amount, ops.currency, ops.fee, ops.reference, ops.extra)
        .where(ops.kind.in_(("dispute", "reinstate", "reversal")), ops.status.not_in(("failed", "refused")))
        .order_by(ops.created_at, ops.id)
    )
    from .sandbox_book import in_period  # (sandbox_book imports this module)

    query = in_period(query, since, until)
    records = []
    for row in conn.execute(query).mappings():
        if row["kind"] == "dispute":
            records.append(
                ProcessorRecord(
                    "dispute", row["id"], row["amount"], row["currency"], fee=row["fee"] or 0, source=row["reference"]
                )
            )
        elif row["kind"] == "reinstate":  # the dispute's ref, as Stripe's balance history names it
            records.append(
                ProcessorRecord(
                    "dispute_won",
                    row["reference"],
                    row["amount"],
                    row["currency"],
                    fee=row["fee"] or 0,
                    source=(row["extra"] or {}).get("charge"),
                )
            )
        else:
            records.append(
                ProcessorRecord("payout_reversal", row["id"], row["amount"], row["currency"], source=row["reference"])
            )
    return records
