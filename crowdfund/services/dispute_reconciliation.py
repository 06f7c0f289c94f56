"""Disputes in our books against the payment processor's own (`flask ledger reconcile`).

Called by services/reconciliation.py with the processor's activity. Every dispute the
processor withdrew money for is one of ours, and our books took the same amount and booked
the same dispute fee; every dispute it gave money back for (won), our books gave back the
same; every transfer reversal (money taken back from a firm after its payout) and every
payout made again after a dispute was won is one of ours, of the same amount; and, over all
time, nothing our books say was withdrawn, given back, reversed or paid again is missing
at the processor.
"""

from collections import defaultdict

from sqlalchemy import select

from .. import ledger
from ..extensions import db
from ..models import Dispute, LedgerTransfer


def differences(records, payouts, *, since=None):
    """Sentences naming each difference. Takes the payouts that paid a firm again after a
    dispute out of `payouts` (the processor's payouts by ref), once compared: they have no
    settlement of their own behind them."""
    ours = {
        row.processor_ref: row
        for row in db.session.execute(
            select(Dispute.id, Dispute.processor_ref, Dispute.pledge_id, Dispute.reversal_ref, Dispute.repay_ref)
        )
    }
    moves = _moves()
    problems = []
    for kind, codes, fee_code, verb in (
        ("dispute", ledger.DISPUTE_TAKES, ledger.DISPUTE_FEE, "withdrew"),
        ("dispute_won", ledger.DISPUTE_RETURNS.values(), ledger.DISPUTE_FEE_RETURN, "gave back"),
    ):
        theirs = {record.ref: record for record in records if record.kind == kind}
        for ref, record in theirs.items():
            dispute = ours.get(ref)
            if dispute is None:
                problems.append(
                    f"The processor {verb} {record.amount} {record.currency} for dispute {ref} "
                    f"({record.source}), which our books do not know."
                )
                continue
            booked = moves[dispute.pledge_id]
            amount = sum(booked[code] for code in codes)
            if amount != record.amount:
                problems.append(
                    f"Dispute {ref} (pledge {dispute.pledge_id}): the processor {verb} {record.amount} "
                    f"{record.currency}, our books {amount}."
                )
            if booked[fee_code] != record.fee:
                problems.append(
                    f"Dispute {ref} (pledge {dispute.pledge_id}): the processor's dispute fee moved "
                    f"{record.fee} ({kind}), our books {booked[fee_code]}."
                )
        if since is None:
            for ref, dispute in ours.items():
                amount = sum(moves[dispute.pledge_id][code] for code in codes)
                if amount and ref not in theirs:
                    problems.append(
                        f"Dispute {ref} (pledge {dispute.pledge_id}): our books {verb} {amount}, but "
                        f"the processor did not."
                    )
    reversals = {record.ref: record for record in records if record.kind == "payout_reversal"}
    problems += _compare(
        "taken back from the firm",
        reversals,
        {d.reversal_ref: (d, moves[d.pledge_id][ledger.PAYOUT_REVERSAL]) for d in ours.values() if d.reversal_ref},
        since,
    )
    repaid = {d.repay_ref: (d, moves[d.pledge_id][ledger.DISPUTE_REPAY]) for d in ours.values() if d.repay_ref}
    problems += _compare(
        "paid to the firm again", {ref: payouts.pop(ref) for ref in repaid if ref in payouts}, repaid, since
    )
    return problems


def _compare(what, theirs, ours, since):
    problems = []
    for ref, record in theirs.items():
        if ref not in ours:
            if since is None:
                problems.append(
                    f"The processor shows {record.amount} {record.currency} {what} ({ref}) with no "
                    f"dispute of ours behind it."
                )
            continue
        dispute, amount = ours[ref]
        if amount != record.amount:
            problems.append(
                f"Dispute {dispute.processor_ref}: {amount} {what} in our books, {record.amount} at the "
                f"processor ({ref})."
            )
    if since is None:
        for ref, (dispute, amount) in ours.items():
            if ref not in theirs:
                problems.append(
                    f"Dispute {dispute.processor_ref}: our books show {amount} {what} ({ref}), the "
                    f"processor has no such transfer."
                )
    return problems


def _moves():
    """{pledge id: {code: amount}} of every dispute transfer."""
    found = defaultdict(lambda: defaultdict(int))
    for pledge_id, code, amount in db.session.execute(
        select(LedgerTransfer.pledge_id, LedgerTransfer.code, LedgerTransfer.amount).where(
            LedgerTransfer.code.in_(sorted(ledger.DISPUTE_CODES))
        )
    ):
        found[pledge_id][code] += int(amount)
    return found


def held_change(record):
    """How a record of the processor's changes what it holds for us (before its fee)."""
    if record.kind == "dispute":
        return -(record.amount + record.fee)
    if record.kind == "dispute_won":
        return record.amount + record.fee
    if record.kind == "payout_reversal":
        return record.amount
    return None
