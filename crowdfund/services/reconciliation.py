"""Our books against the payment processor's own: every difference as a sentence.

`differences(records)` takes the processor's activity (`gateway.activity()`: charges with
the fee it kept, refunds, payouts) and compares it, item by item and in total, with the
pledges, the settlements and the ledger:

- every charge the processor took belongs to one pledge of ours, of the same amount, which
  our books show as paid (held, released, returned) or as refunded at once (a payment that
  came after its campaign closed), and the fee we booked is the fee it kept;
- every pledge our ledger shows as paid has its charge at the processor;
- every refund in our books is at the processor, of the same amount, and the processor made
  no refund our books do not know; a refund that failed later (the processor lists its
  `refund_failure`) is money our books owe the backer (refunds_owed), not money returned;
- every payout in our books (a settlement's payout, and its reserve paid later) is at the
  processor, of the same amount, and no other;
- disputes, their money given back, transfer reversals and payouts made again after a
  dispute was won agree with our books (services/dispute_reconciliation.py);
- per currency, what the processor holds for us (charges - fees - refunds - payouts -
  disputes and their fees + what came back of them) is exactly what our clearing account
  says it holds.

With a period (`since`, `until`), only the processor's records of that period and the
pledges and settlements made in it are compared, and the totals are left out.
"""

from collections import defaultdict

from sqlalchemy import and_, func, select

from .. import ledger
from ..extensions import db
from ..models import DeliveryPayout, LedgerAccount, LedgerTransfer, Pledge, Settlement
from ..models.pledge import PledgeStatus as PS
from . import dispute_reconciliation, pledge_change_books

PAID = {PS.HELD.value, PS.RELEASED.value, PS.REFUNDED.value, PS.CANCELLED.value, PS.DISPUTED.value}
RETURNED = {PS.REFUNDED.value, PS.CANCELLED.value}
OPEN = {PS.PENDING.value, PS.REQUIRES_ACTION.value}


def differences(records, *, since=None, until=None):
    """Sentences naming each difference between the processor's `records` and our books."""
    charges = {r.ref: r for r in records if r.kind == "charge"}
    refunded = defaultdict(int)  # charge ref -> refunded at the processor
    for record in records:
        if record.kind == "refund":
            refunded[record.source] += record.amount
        elif record.kind == "refund_failure":  # the refund's money came back to our balance
            refunded[record.source] -= record.amount
    payouts = {r.ref: r for r in records if r.kind == "payout"}
    pledges = _pledges(since, until)
    fees = _booked(ledger.PROCESSOR_FEE)
    holds, returns = set(_booked(ledger.PLEDGE_HOLD)), set(_booked(ledger.PLEDGE_REFUND))
    owed = _refunds_owed()
    problems = []
    by_ref = {p.charge_ref: p for p in pledges if p.charge_ref}
    changes = pledge_change_books.processor_view()  # charges that pledge changes replaced or refunded in part
    for ref, partly in changes.partly_refunded.items():
        refunded[ref] -= partly
    for ref, held_back in _delivery_refunds().items():  # release on delivery: a held remainder refunded
        refunded[ref] -= held_back
    for ref, charge in charges.items():
        if ref in changes.superseded:
            problems += changes.charge_problems(ref, charge, refunded.get(ref, 0))
            continue
        pledge = by_ref.get(ref)
        if pledge is None:
            if since is None:  # with a period, its pledge may be older than the period
                problems.append(f"The processor took {charge.amount} {charge.currency} ({ref}) for no pledge of ours.")
            continue
        # A refund that failed is owed to the backer: on its way back, as far as a charge goes.
        problems += _charge_problems(
            pledge,
            charge,
            changes.fees.get(ref, fees.get(pledge.id, 0)),
            refunded.get(ref, 0) + owed.get(pledge.id, 0),
            changes.partly_refunded.get(ref, 0),
        )
    for pledge in pledges:
        if pledge.id in holds and pledge.charge_ref not in charges:
            problems.append(
                f"Pledge {pledge.id} is paid in our books ({pledge.charge_ref}), but the processor has no such charge."
            )
        returned = pledge.amount - owed.get(pledge.id, 0)
        if pledge.id in returns and pledge.refund_ref and refunded.get(pledge.charge_ref, 0) != returned:
            problems.append(
                f"Pledge {pledge.id} was returned in our books ({returned} {pledge.currency}), but "
                f"the processor refunded {refunded.get(pledge.charge_ref, 0)} of {pledge.charge_ref}."
            )
    problems += dispute_reconciliation.differences(records, payouts, since=since)  # before the payouts: see there
    problems += _payout_problems(payouts, since, until)
    if since is None and until is None:
        problems += _total_problems(records)
    return problems


def _charge_problems(pledge, charge, fee_booked, refunded, made_smaller=0):
    """`made_smaller`: what changes to a smaller pledge refunded of this charge, which the
    pledge's amount no longer counts."""
    name = f"Pledge {pledge.id} ({pledge.status})"
    problems = []
    if (pledge.amount + made_smaller, pledge.currency) != (charge.amount, charge.currency):
        problems.append(
            f"{name} is for {pledge.amount} {pledge.currency}, but the processor took "
            f"{charge.amount} {charge.currency} ({charge.ref})."
        )
    if pledge.status in OPEN:
        problems.append(
            f"{name}: the processor has taken its payment {charge.ref}, but our books do not show it "
            f"yet (`flask pledges reconcile` finishes it)."
        )
    elif pledge.status == PS.FAILED.value and refunded < charge.amount:
        problems.append(
            f"{name} failed, but the processor took {charge.amount} {charge.currency} ({charge.ref}) "
            f"and refunded only {refunded}."
        )
    elif pledge.status not in PAID and pledge.status != PS.FAILED.value:
        problems.append(f"{name}: the processor took {charge.ref}, which our books do not account for.")
    if pledge.status in (PS.HELD.value, PS.RELEASED.value, PS.DISPUTED.value) and refunded:
        problems.append(f"{name}: the processor refunded {refunded} of {charge.ref}, which our books do not show.")
    if fee_booked != charge.fee:
        problems.append(f"{name}: the processor kept {charge.fee} in fees on {charge.ref}; our books say {fee_booked}.")
    return problems


def _payout_problems(payouts, since, until):
    problems, ours = [], set()
    for settlement_id, ref, amount in _our_payouts(since, until):
        ours.add(ref)
        record = payouts.get(ref)
        if record is None:
            problems.append(
                f"Settlement {settlement_id} paid {amount} out ({ref}), but the processor has no such payout."
            )
        elif record.amount != amount:
            problems.append(
                f"Settlement {settlement_id} paid {amount} out, but the processor's payout {ref} is "
                f"{record.amount} {record.currency}."
            )
    if since is None:
        for ref, record in payouts.items():
            if ref not in ours:
                problems.append(
                    f"The processor paid {record.amount} {record.currency} out ({ref}) with no "
                    f"settlement of ours behind it."
                )
    return problems


def _total_problems(records):
    held = defaultdict(int)
    for record in records:
        change = dispute_reconciliation.held_change(record)  # a dispute, its money back, a reversal
        if change is not None:
            held[record.currency] += change
            continue
        sign = 1 if record.kind in ("charge", "refund_failure") else -1
        held[record.currency] += sign * record.amount - (record.fee if record.kind == "charge" else 0)
    ours = _clearing_balances()
    problems = []
    for currency in sorted(set(held) | set(ours)):
        theirs, books = held.get(currency, 0), -ours.get(currency, 0)
        if theirs != books:
            problems.append(f"{currency}: the processor holds {theirs} for us, our clearing account says {books}.")
    return problems


def _pledges(since, until):
    query = select(
        Pledge.id, Pledge.status, Pledge.amount, Pledge.currency, Pledge.charge_ref, Pledge.refund_ref
    ).where(Pledge.charge_ref.is_not(None))
    return db.session.execute(_in_period(query, Pledge.created_at, since, until)).all()


def _our_payouts(since, until):
    """(settlement id, ref, amount) of every payout our settlements made: the payout, and
    the reserve paid after it (crowdfund/workflows/payouts.py)."""
    rows = []
    for ref_column, amount_column in (
        (Settlement.payout_ref, Settlement.payout_amount),
        (Settlement.reserve_ref, Settlement.reserve_amount),
    ):
        query = select(Settlement.id, ref_column, amount_column).where(ref_column.is_not(None))
        rows += db.session.execute(_in_period(query, Settlement.created_at, since, until)).all()
    # Release on delivery: the daily payouts of released remainders (workflows/delivery_release.py).
    query = select(DeliveryPayout.settlement_id, DeliveryPayout.ref, DeliveryPayout.amount).where(
        DeliveryPayout.ref.is_not(None)
    )
    rows += db.session.execute(_in_period(query, DeliveryPayout.created_at, since, until)).all()
    return rows


def _delivery_refunds():
    """{charge ref: what was refunded of it as a held remainder} (release on delivery)."""
    return dict(
        db.session.execute(
            select(Pledge.charge_ref, LedgerTransfer.amount)
            .join(Pledge, Pledge.id == LedgerTransfer.pledge_id)
            .where(LedgerTransfer.code == ledger.DELIVERY_REFUND)
        ).all()
    )


def _refunds_owed():
    """{pledge id: what our books owe its backer}: refunds that failed and were not sent again."""
    owed = defaultdict(int)
    for pledge_id, code, amount in db.session.execute(
        select(LedgerTransfer.pledge_id, LedgerTransfer.code, func.sum(LedgerTransfer.amount))
        .where(LedgerTransfer.code.in_((ledger.REFUND_FAILED, ledger.REFUND_RETRY)))
        .group_by(LedgerTransfer.pledge_id, LedgerTransfer.code)
    ):
        owed[pledge_id] += int(amount) if code == ledger.REFUND_FAILED else -int(amount)
    return owed


def _booked(code):
    """{pledge id: amount} of the pledge transfers with `code`."""
    return dict(
        db.session.execute(
            select(LedgerTransfer.pledge_id, LedgerTransfer.amount).where(
                LedgerTransfer.code == code, LedgerTransfer.pledge_id.is_not(None)
            )
        ).all()
    )


def _clearing_balances():
    """{currency: credits - debits} of the gateway clearing accounts."""
    result = defaultdict(int)
    for side, sign in ((LedgerTransfer.credit_account_id, 1), (LedgerTransfer.debit_account_id, -1)):
        for currency, amount in db.session.execute(
            select(LedgerAccount.currency, func.sum(LedgerTransfer.amount))
            .join(LedgerAccount, and_(LedgerAccount.id == side, LedgerAccount.kind == "gateway_clearing"))
            .group_by(LedgerAccount.currency)
        ):
            result[currency] += sign * int(amount)
    return result


def _in_period(query, column, since, until):
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column < until)
    return query
