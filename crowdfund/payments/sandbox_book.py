"""The sandbox processor's book read back as its activity, for `flask ledger reconcile`:
succeeded charges with their fees, refunds and payouts, as a real processor's balance
history lists them. A refund that failed later is listed twice, as Stripe's balance history
does: the refund, and the `refund_failure` that gave its money back."""

from sqlalchemy import or_, select

from ..models import SandboxOperation
from .base import ProcessorRecord
from .sandbox_disputes import dispute_activity

_OPERATIONS = SandboxOperation.__table__


def in_period(query, since, until):
    """`query` of sandbox operations limited to those made in [since, until)."""
    if since is not None:
        query = query.where(_OPERATIONS.c.created_at >= since)
    if until is not None:
        query = query.where(_OPERATIONS.c.created_at < until)
    return query


def activity(conn, *, since=None, until=None):
    ops = _OPERATIONS.c
    query = (
        select(ops.id, ops.kind, ops.status, ops.amount, ops.currency, ops.fee, ops.reference)
        .where(or_(ops.status == "succeeded", (ops.kind == "refund") & (ops.status == "failed")))
        .order_by(ops.created_at, ops.id)
    )
    query = in_period(query, since, until)
    records = []
    for row in conn.execute(query).mappings():
        if row["kind"] == "charge":
            records.append(ProcessorRecord("charge", row["id"], row["amount"], row["currency"], fee=row["fee"] or 0))
        elif row["kind"] == "refund":
            records.append(
                ProcessorRecord("refund", row["id"], row["amount"], row["currency"], source=row["reference"])
            )
            if row["status"] == "failed":
                records.append(
                    ProcessorRecord(
                        "refund_failure", row["id"], row["amount"], row["currency"], source=row["reference"]
                    )
                )
        elif row["kind"] == "payout":
            records.append(
                ProcessorRecord("payout", row["id"], row["amount"], row["currency"], source=row["reference"])
            )
    return records + dispute_activity(conn, since=since, until=until)
