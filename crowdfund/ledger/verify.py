"""`verify()`: the ledger's invariants, each problem as a sentence a person can act on.

1. Per currency, total debits equal total credits; every transfer's currency is the
   currency of both its accounts. (Each row debits and credits the same amount, so the
   totals can only drift apart through a transfer between accounts of two currencies.)
2. No escrow account is negative; each project's escrow balance equals the sum of its
   held pledges; for a live campaign that is also `project.pledged_amount`, and its
   `backer_count` is the number of distinct backers with a held pledge. (After a campaign
   closes, its settlement owns those running totals.)
3. Each pledge's money is in exactly one place:
     pending, requires_action   no transfers at all
     failed                 none, or only the processor's fee (a charge refunded because
                            the campaign closed while it was in flight)
     held                   one hold of the pledge's amount (with the changes made while
                            live: hold + pledge_increase - pledge_decrease), nothing out
     released               the hold, and release_net + release_fee (+ the processor's fee,
                            when the firm bears it) summing to the amount
     refunded, cancelled    the hold, and one refund of the same amount
     disputed               the hold (and the release, if it came after release), and one
                            dispute taking the amount from where it was: escrow, or each
                            account the release put it in (verify_disputes.py)
   a pledge a dispute touched that is no longer disputed (the dispute was won: held or
   released again) had each leg given back to where it was taken from;
   and at most one processor_fee per pledge, whatever its status (the processor keeps it);
   a returned pledge (refunded, cancelled, or failed after a late payment's refund) whose
   refund failed has one refund_failed per failed attempt, each of its amount, and one
   refund_retry fewer (still owed, in refunds_owed) or as many (the backer has it);
   and every pledge transfer runs between the right accounts (hold: clearing -> the
   project's escrow, and so on).
4. Transfer ids are unique (the primary key sees to that); a pledge never has two holds
   (or two refunds), and its hold carries the id `pledge:<id>:hold`.
"""

from collections import defaultdict
from typing import cast

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from .. import ledger
from ..extensions import db
from ..models import LedgerAccount, LedgerTransfer, Pledge, Project
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectStatus
from .verify_delivery import DELIVERY_DIRECTIONS, delivery_account_problems, delivery_pledge_problems
from .verify_disputes import DISPUTE_DIRECTIONS, dispute_problems, firm_mismatches

PLEDGE_CODES = {"pledge_hold", "pledge_refund", "release_net", "release_fee", "processor_fee", "release_processor_fee"}
# What a release takes out of escrow; delivery_hold is the part an on_delivery campaign keeps
# back per pledge until its reward is delivered (verify_delivery.py).
RELEASE_CODES = ("release_net", "release_fee", "release_processor_fee", "delivery_hold")
# code -> (debit kind, credit kind, which side is the pledge's project escrow, if any)
DIRECTIONS = {
    "pledge_hold": ("gateway_clearing", "escrow", "credit"),
    "pledge_refund": ("escrow", "gateway_clearing", "debit"),
    "release_net": ("escrow", "firm_payable", "debit"),
    "release_fee": ("escrow", "platform_fees", "debit"),
    "processor_fee": ("processor_fees", "gateway_clearing", None),
    "release_processor_fee": ("escrow", "processor_fees", "debit"),
}
# Failed refunds (crowdfund/workflows/refund_failures.py): money the processor gave back is
# owed to the backer (refunds_owed) until a retry's refund takes it out again.
REFUND_FAILURE_DIRECTIONS = {
    "refund_failed": ("gateway_clearing", "refunds_owed", None),
    "refund_retry": ("refunds_owed", "gateway_clearing", None),
}
PLEDGE_CODES.update(REFUND_FAILURE_DIRECTIONS)
DIRECTIONS.update(REFUND_FAILURE_DIRECTIONS)
# The same codes under a pledge change's ids (crowdfund/workflows/change_refund_failures.py):
# counted apart, as "change_" + code, since they are of the change's refund, not the pledge's.
CHANGE_REFUND_CODES = {f"change_{code}" for code in REFUND_FAILURE_DIRECTIONS}
PLEDGE_CODES.update(CHANGE_REFUND_CODES)
# Changes of a held pledge (crowdfund/workflows/pledge_change.py): what its hold put in
# escrow, plus what changes added, less what they took out, is the pledge's amount.
CHANGE_DIRECTIONS = {
    "pledge_increase": ("gateway_clearing", "escrow", "credit"),
    "pledge_decrease": ("escrow", "gateway_clearing", "debit"),
    "change_processor_fee": ("processor_fees", "gateway_clearing", None),
}
PLEDGE_CODES.update(CHANGE_DIRECTIONS)
DIRECTIONS.update(CHANGE_DIRECTIONS)
# Disputes (chargebacks): verify_disputes.py.
PLEDGE_CODES.update(DISPUTE_DIRECTIONS)
DIRECTIONS.update(DISPUTE_DIRECTIONS)
# Release on delivery: verify_delivery.py.
PLEDGE_CODES.update(DELIVERY_DIRECTIONS)
DIRECTIONS.update(DELIVERY_DIRECTIONS)


def verify():
    """A list of problems; empty when the ledger is sound."""
    problems = []
    problems += _check_currencies()
    balances = _balances()
    problems += _check_escrow(balances)
    problems += _check_pledges()
    problems += _check_pledge_directions()
    problems += _check_refunds_owed(balances)
    problems += delivery_account_problems(balances)
    return problems


def counts():
    """(transfers, accounts) — for the CLI's summary line."""
    return (
        db.session.scalar(select(func.count()).select_from(LedgerTransfer)),
        db.session.scalar(select(func.count()).select_from(LedgerAccount)),
    )


def _check_currencies():
    problems = []
    debit, credit = aliased(LedgerAccount), aliased(LedgerAccount)
    totals: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])  # currency -> [debits, credits]
    for currency, total in db.session.execute(
        select(debit.currency, func.sum(LedgerTransfer.amount))
        .join(debit, debit.id == LedgerTransfer.debit_account_id)
        .group_by(debit.currency)
    ):
        totals[currency][0] = int(total)
    for currency, total in db.session.execute(
        select(credit.currency, func.sum(LedgerTransfer.amount))
        .join(credit, credit.id == LedgerTransfer.credit_account_id)
        .group_by(credit.currency)
    ):
        totals[currency][1] = int(total)
    for currency, (debits, credits) in sorted(totals.items()):
        if debits != credits:
            problems.append(f"{currency}: total debits {debits} differ from total credits {credits}.")
    mismatched = db.session.execute(
        select(LedgerTransfer.id, LedgerTransfer.currency, debit.key, debit.currency, credit.key, credit.currency)
        .join(debit, debit.id == LedgerTransfer.debit_account_id)
        .join(credit, credit.id == LedgerTransfer.credit_account_id)
        .where(or_(LedgerTransfer.currency != debit.currency, LedgerTransfer.currency != credit.currency))
        .order_by(LedgerTransfer.id)
    )
    for tid, currency, dkey, dcur, ckey, ccur in mismatched:
        problems.append(f"Transfer {tid} is in {currency} but moves money from {dkey} ({dcur}) to {ckey} ({ccur}).")
    return problems


def _balances():
    """{account id: credits - debits} for every account with transfers."""
    result: defaultdict[int, int] = defaultdict(int)
    for account_id, total in db.session.execute(
        select(LedgerTransfer.credit_account_id, func.sum(LedgerTransfer.amount)).group_by(
            LedgerTransfer.credit_account_id
        )
    ):
        result[account_id] += int(total)
    for account_id, total in db.session.execute(
        select(LedgerTransfer.debit_account_id, func.sum(LedgerTransfer.amount)).group_by(
            LedgerTransfer.debit_account_id
        )
    ):
        result[account_id] -= int(total)
    return result


def _check_escrow(balances):
    problems = []
    escrow = {}  # project id -> (account key, balance)
    for account_id, key, project_id, currency, project_currency in db.session.execute(
        select(LedgerAccount.id, LedgerAccount.key, LedgerAccount.project_id, LedgerAccount.currency, Project.currency)
        .outerjoin(Project, Project.id == LedgerAccount.project_id)
        .where(LedgerAccount.kind == "escrow")
        .order_by(LedgerAccount.id)
    ):
        amount = balances.get(account_id, 0)
        if amount < 0:
            problems.append(f"Escrow account {key} is negative: {amount} {currency}.")
        if project_id is None or currency != project_currency:
            problems.append(f"Escrow account {key} does not match its project's currency.")
        if project_id is not None:
            escrow[project_id] = (key, amount)
    held = {
        pid: (int(total), backers)
        for pid, total, backers in db.session.execute(
            select(Pledge.project_id, func.sum(Pledge.amount), func.count(func.distinct(Pledge.backer_id)))
            .where(Pledge.status == PS.HELD.value)
            .group_by(Pledge.project_id)
        )
    }
    for project_id in sorted(set(escrow) | set(held)):
        key, amount = escrow.get(project_id, (f"escrow:project:{project_id}", 0))
        held_total = held.get(project_id, (0, 0))[0]
        if amount != held_total:
            problems.append(
                f"Project {project_id}: escrow {key} holds {amount} but its held pledges add up to {held_total}."
            )
    for project_id, pledged, backer_count in db.session.execute(
        select(Project.id, Project.pledged_amount, Project.backer_count)
        .where(Project.status == ProjectStatus.LIVE.value)
        .order_by(Project.id)
    ):
        held_total, backers = held.get(project_id, (0, 0))
        if pledged != held_total:
            problems.append(
                f"Project {project_id}: pledged_amount is {pledged} but its held pledges add up to {held_total}."
            )
        if backer_count != backers:
            problems.append(
                f"Project {project_id}: backer_count is {backer_count} but {backers} backers have held pledges."
            )
    return problems


def _check_pledges():
    problems = []
    moves: defaultdict[int, dict[str, tuple[int, int]]] = defaultdict(dict)  # pledge id -> code -> (count, total)
    code_of = case(
        (
            and_(
                LedgerTransfer.code.in_(REFUND_FAILURE_DIRECTIONS), LedgerTransfer.id.like(ledger.CHANGE_TRANSFER_IDS)
            ),
            literal("change_") + LedgerTransfer.code,
        ),
        else_=LedgerTransfer.code,
    )
    for pledge_id, code, count, total in db.session.execute(
        select(LedgerTransfer.pledge_id, code_of, func.count(), func.sum(LedgerTransfer.amount))
        .where(LedgerTransfer.pledge_id.is_not(None))
        .group_by(LedgerTransfer.pledge_id, code_of)
    ):
        moves[cast(int, pledge_id)][code] = (count, int(total))  # the query leaves out transfers with no pledge
    strays = db.session.execute(
        select(LedgerTransfer.id, LedgerTransfer.code)
        .where(LedgerTransfer.pledge_id.is_(None), LedgerTransfer.code.in_(PLEDGE_CODES))
        .order_by(LedgerTransfer.id)
    )
    for tid, code in strays:
        problems.append(f"Transfer {tid} is a {code} but names no pledge.")
    holds = dict(
        db.session.execute(
            select(LedgerTransfer.pledge_id, LedgerTransfer.id).where(
                LedgerTransfer.code == "pledge_hold", LedgerTransfer.pledge_id.is_not(None)
            )
        ).all()
    )

    has_transfers = select(LedgerTransfer.id).where(LedgerTransfer.pledge_id == Pledge.id).exists()
    rows = db.session.execute(
        select(Pledge.id, Pledge.status, Pledge.amount)
        .where(or_(Pledge.status != PS.PENDING.value, has_transfers))
        .order_by(Pledge.id)
    )
    seen = set()
    for pledge_id, status, amount in rows:
        seen.add(pledge_id)
        problems += _pledge_problems(pledge_id, status, amount, moves.get(pledge_id, {}), holds.get(pledge_id))
    for pledge_id in sorted(set(moves) - seen):  # pragma: no cover - the foreign key forbids it
        problems.append(f"Transfers name pledge {pledge_id}, which does not exist.")
    return problems


def _pledge_problems(pledge_id, status, amount, moves, hold_transfer_id):
    problems = []
    name = f"Pledge {pledge_id} ({status}, {amount})"
    unknown = set(moves) - PLEDGE_CODES
    if unknown:
        problems.append(f"{name} has transfers with codes that do not belong to pledges: {', '.join(sorted(unknown))}.")

    def count(code):
        return moves.get(code, (0, 0))[0]

    def total(code):
        return moves.get(code, (0, 0))[1]

    if count("processor_fee") > 1:
        problems.append(f"{name} has {count('processor_fee')} processor fees (expected at most 1).")
    problems += _refund_failure_problems(name, status, amount, count, total)
    if count("change_refund_retry") > count("change_refund_failed") or total("change_refund_retry") > total(
        "change_refund_failed"
    ):
        problems.append(f"{name}: its changes' refunds were sent again more than they failed.")
    problems += dispute_problems(name, status, amount, count, total)
    problems += delivery_pledge_problems(name, status, count, total)
    if status == PS.FAILED.value and set(moves) <= {"processor_fee", *REFUND_FAILURE_DIRECTIONS}:
        return problems  # the processor kept its fee on a charge it then refunded
    if status in (PS.PENDING.value, PS.REQUIRES_ACTION.value, PS.FAILED.value):
        if moves:
            problems.append(f"{name} has ledger transfers, but a {status} pledge never touches escrow.")
        return problems
    if count("pledge_hold") != 1:
        problems.append(f"{name} has {count('pledge_hold')} hold transfers (expected exactly 1).")
    elif total("pledge_hold") + total("pledge_increase") - total("pledge_decrease") != amount:
        changed = total("pledge_increase") - total("pledge_decrease")
        moved = f"{total('pledge_hold')}" + (f" (and its changes {changed:+d})" if changed else "")
        problems.append(f"{name}: its hold moved {moved} into escrow, not {amount}.")
    if hold_transfer_id is not None and count("pledge_hold") == 1 and hold_transfer_id != f"pledge:{pledge_id}:hold":
        problems.append(f"{name}: its hold has id {hold_transfer_id}, expected pledge:{pledge_id}:hold.")
    released = sum(count(code) for code in RELEASE_CODES)
    if count("release_processor_fee") and (
        count("release_processor_fee") > 1 or total("release_processor_fee") > total("processor_fee")
    ):
        problems.append(
            f"{name}: the firm bore {total('release_processor_fee')} of processor fees, but the "
            f"processor kept {total('processor_fee')}."
        )
    if status == PS.HELD.value:
        if released or count("pledge_refund"):
            problems.append(f"{name} is held, but money has already left escrow for it.")
    elif status == PS.RELEASED.value:
        if count("release_net") > 1 or count("release_fee") > 1 or not released:
            problems.append(
                f"{name} is released but has {count('release_net')} net and "
                f"{count('release_fee')} fee transfers (expected 1 and at most 1)."
            )
        elif sum(total(code) for code in RELEASE_CODES) != amount:
            borne = f" + processor fee {total('release_processor_fee')}" if count("release_processor_fee") else ""
            problems.append(
                f"{name} is released but net {total('release_net')} + fee "
                f"{total('release_fee')}{borne} do not add up to the amount."
            )
        if count("pledge_refund"):
            problems.append(f"{name} is released and also refunded.")
    elif status in (PS.REFUNDED.value, PS.CANCELLED.value):
        if count("pledge_refund") != 1:
            problems.append(f"{name} has {count('pledge_refund')} refund transfers (expected exactly 1).")
        elif total("pledge_refund") != amount:
            problems.append(f"{name}: its refund returned {total('pledge_refund')}, not {amount}.")
        if released:
            problems.append(f"{name} was returned to the backer and also released to the firm.")
    return problems


def _refund_failure_problems(name, status, amount, count, total):
    """A failed refund is booked back (refund_failed) and leaves again only by a retry."""
    failed, retried = count("refund_failed"), count("refund_retry")
    if not failed and not retried:
        return []
    if count("delivery_refund"):  # release on delivery: the refund of the held remainder failed
        amount = total("delivery_refund")
    elif status not in (PS.REFUNDED.value, PS.CANCELLED.value, PS.FAILED.value):
        return [f"{name} was never returned, but has {failed} failed refund(s) and {retried} retried one(s)."]
    problems = []
    if retried not in (failed, failed - 1):
        problems.append(
            f"{name} has {failed} failed refund(s) and {retried} retried one(s) (expected as many, "
            f"or one fewer while the backer is owed it)."
        )
    if total("refund_failed") != failed * amount or total("refund_retry") != retried * amount:
        problems.append(
            f"{name}: its failed refunds ({total('refund_failed')}) and retries "
            f"({total('refund_retry')}) are not each of the pledge's amount (or its refunded remainder)."
        )
    return problems


def _check_refunds_owed(balances):
    rows = db.session.execute(
        select(LedgerAccount.id, LedgerAccount.key, LedgerAccount.currency)
        .where(LedgerAccount.kind == "refunds_owed")
        .order_by(LedgerAccount.id)
    )
    return [
        f"{key} is negative: {balances.get(account_id, 0)} {currency} more was refunded again than had failed."
        for account_id, key, currency in rows
        if balances.get(account_id, 0) < 0
    ]


def _check_pledge_directions():
    debit, credit = aliased(LedgerAccount), aliased(LedgerAccount)
    wrong = []
    for code, (debit_kind, credit_kind, escrow_side) in DIRECTIONS.items():
        checks = [debit.kind != debit_kind, credit.kind != credit_kind]
        if escrow_side is not None:
            escrow = credit if escrow_side == "credit" else debit
            checks += [escrow.project_id.is_(None), escrow.project_id != Pledge.project_id]
        wrong.append(and_(LedgerTransfer.code == code, or_(*checks)))
    firm_mismatch = or_(
        and_(LedgerTransfer.code == "release_net", credit.firm_id != Project.firm_id),
        *firm_mismatches(LedgerTransfer.code, debit, credit, Project.firm_id),
    )
    rows = db.session.execute(
        select(LedgerTransfer.id, LedgerTransfer.code, LedgerTransfer.pledge_id, debit.key, credit.key)
        .join(debit, debit.id == LedgerTransfer.debit_account_id)
        .join(credit, credit.id == LedgerTransfer.credit_account_id)
        .join(Pledge, Pledge.id == LedgerTransfer.pledge_id)
        .join(Project, Project.id == Pledge.project_id)
        .where(or_(*wrong, firm_mismatch))
        .order_by(LedgerTransfer.id)
    )
    return [
        f"Transfer {tid} ({code}) of pledge {pledge_id} runs from {dkey} to {ckey}, "
        f"which is not where a {code} goes for that pledge."
        for tid, code, pledge_id, dkey, ckey in rows
    ]
