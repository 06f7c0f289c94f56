"""The sandbox processor's book read back as its activity, for `flask ledger reconcile`:
succeeded charges with their fees, refunds and payouts, as a real processor's balance
history lists them."""
from sqlalchemy import select

from ..models import SandboxOperation
from .base import ProcessorRecord

_OPERATIONS = SandboxOperation.__table__


def activity(conn, *, since=None, until=None):
    ops = _OPERATIONS.c
    query = (select(ops.id, ops.kind, ops.status, ops.amount, ops.currency, ops.fee, ops.reference)
             .where(ops.status == "succeeded").order_by(ops.created_at, ops.id))
    if since is not None:
        query = query.where(ops.created_at >= since)
    if until is not None:
        query = query.where(ops.created_at < until)
    records = []
    for row in conn.execute(query).mappings():
        if row["kind"] == "charge":
            records.append(ProcessorRecord("charge", row["id"], row["amount"], row["currency"], fee=row["fee"] or 0))
        elif row["kind"] == "refund":
            records.append(ProcessorRecord("refund", row["id"], row["amount"], row["currency"],
                                           source=row["reference"]))
        elif row["kind"] == "payout":
            records.append(ProcessorRecord("payout", row["id"], row["amount"], row["currency"],
                                           source=row["reference"]))
    return records
