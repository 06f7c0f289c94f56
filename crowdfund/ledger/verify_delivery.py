"""What `verify()` checks of release on delivery (delivery.py has the flows).

- Per pledge: at most one delivery_hold, and at most one way out of it (delivery_release or
  delivery_refund, of the same amount); only a released pledge has any of them (its release
  check in verify.py counts delivery_hold as part of what left escrow).
- Per campaign: `held_for_delivery` is never negative and holds exactly the remainders of its
  pledges whose delivery still holds money (`pledge_deliveries`, status awaiting_shipment,
  shipped, problem or refunding), and each delivery row agrees with its pledge's transfers
  (a `disputed` one: released before the dispute if `released_how` says so; the dispute's
  own legs, dispute_held / dispute_delivery, are checked with the dispute, verify_disputes.py).
- Directions: a delivery_hold leaves the pledge's own campaign's escrow for the same
  campaign's held_for_delivery, and a delivery_release reaches the campaign's firm.
"""

from collections import defaultdict
from typing import cast

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import LedgerAccount, LedgerTransfer, Pledge, PledgeDelivery, Project
from ..models.delivery import HOLDING, DeliveryStatus as DS
from ..models.pledge import PledgeStatus as PS
from .delivery import DELIVERY_CODES, DELIVERY_HOLD, DELIVERY_REFUND, DELIVERY_RELEASE

# code -> (debit kind, credit kind, which side is the pledge's project escrow, if any)
DELIVERY_DIRECTIONS = {
    DELIVERY_HOLD: ("escrow", "held_for_delivery", "debit"),
    DELIVERY_RELEASE: ("held_for_delivery", "firm_payable", None),
    DELIVERY_REFUND: ("held_for_delivery", "gateway_clearing", None),
}
assert set(DELIVERY_DIRECTIONS) == set(DELIVERY_CODES)


def delivery_pledge_problems(name, status, count, total):
    """The delivery transfers of one pledge (`count`/`total` by code, as verify.py reads them)."""
    held, released, refunded = count(DELIVERY_HOLD), count(DELIVERY_RELEASE), count(DELIVERY_REFUND)
    if not (held or released or refunded):
        return []
    problems = []
    if status not in (PS.RELEASED.value, PS.DISPUTED.value):
        problems.append(f"{name} has delivery transfers, but only a released pledge holds a remainder.")
    if held > 1 or released + refunded > held or released + refunded > 1:
        problems.append(
            f"{name} has {held} delivery hold(s), {released} release(s) and {refunded} refund(s) "
            f"(expected one hold and at most one way out of it)."
        )
    elif released + refunded and total(DELIVERY_RELEASE) + total(DELIVERY_REFUND) != total(DELIVERY_HOLD):
        problems.append(
            f"{name}: its held remainder was {total(DELIVERY_HOLD)}, but "
            f"{total(DELIVERY_RELEASE) + total(DELIVERY_REFUND)} left held_for_delivery."
        )
    return problems


def delivery_account_problems(balances):
    """held_for_delivery per campaign against the delivery rows, and each row against its pledge."""
    problems = []
    accounts: dict[int, tuple[str, int]] = {}
    for account_id, key, project_id in db.session.execute(
        select(LedgerAccount.id, LedgerAccount.key, LedgerAccount.project_id)
        .where(LedgerAccount.kind == "held_for_delivery")
        .order_by(LedgerAccount.id)
    ):
        amount = balances.get(account_id, 0)
        if amount < 0:
            problems.append(f"{key} is negative: {amount}.")
        if project_id is not None:
            accounts[project_id] = (key, amount)
    held: dict[int, int] = dict(
        db.session.execute(
            select(PledgeDelivery.project_id, func.sum(PledgeDelivery.held_amount))
            .where(PledgeDelivery.status.in_(HOLDING))
            .group_by(PledgeDelivery.project_id)
        ).all()
    )
    for project_id in sorted(set(accounts) | set(held)):
        key, amount = accounts.get(project_id, (f"held_for_delivery:project:{project_id}", 0))
        waiting = int(held.get(project_id) or 0)
        if amount != waiting:
            problems.append(
                f"Project {project_id}: {key} holds {amount} but its undelivered remainders add up to {waiting}."
            )
    problems += _rows_against_transfers()
    problems += _directions()
    return problems


def _rows_against_transfers():
    moved: defaultdict[int, dict[str, int]] = defaultdict(dict)
    for pledge_id, code, total in db.session.execute(
        select(LedgerTransfer.pledge_id, LedgerTransfer.code, func.sum(LedgerTransfer.amount))
        .where(LedgerTransfer.code.in_(DELIVERY_CODES))
        .group_by(LedgerTransfer.pledge_id, LedgerTransfer.code)
    ):
        moved[cast(int, pledge_id)][code] = int(total)  # delivery transfers always name their pledge
    problems = []
    expected_out = {DS.RELEASED.value: DELIVERY_RELEASE, DS.REFUNDED.value: DELIVERY_REFUND}
    for pledge_id, status, amount, released_how in db.session.execute(
        select(
            PledgeDelivery.pledge_id, PledgeDelivery.status, PledgeDelivery.held_amount, PledgeDelivery.released_how
        ).order_by(PledgeDelivery.pledge_id)
    ):
        codes = moved.pop(pledge_id, {})
        if codes.get(DELIVERY_HOLD, 0) != amount:
            problems.append(
                f"Pledge {pledge_id}: its delivery holds {amount} but {codes.get(DELIVERY_HOLD, 0)} was held for it."
            )
        out = expected_out.get(status)
        if status == DS.DISPUTED.value and released_how:  # released before its dispute took it
            out = DELIVERY_RELEASE
        for code in (DELIVERY_RELEASE, DELIVERY_REFUND):
            wanted = amount if code == out else 0
            if codes.get(code, 0) != wanted:
                problems.append(
                    f"Pledge {pledge_id}: its delivery is {status}, but {codes.get(code, 0)} left as {code}."
                )
    for pledge_id in sorted(moved):
        problems.append(f"Pledge {pledge_id} has delivery transfers but no delivery.")
    return problems


def _directions():
    debit, credit = aliased(LedgerAccount), aliased(LedgerAccount)
    wrong = or_(
        and_(LedgerTransfer.code == DELIVERY_HOLD, credit.project_id != Pledge.project_id),
        and_(LedgerTransfer.code.in_((DELIVERY_RELEASE, DELIVERY_REFUND)), debit.project_id != Pledge.project_id),
        and_(LedgerTransfer.code == DELIVERY_RELEASE, credit.firm_id != Project.firm_id),
    )
    rows = db.session.execute(
        select(LedgerTransfer.id, LedgerTransfer.code, LedgerTransfer.pledge_id)
        .join(debit, debit.id == LedgerTransfer.debit_account_id)
        .join(credit, credit.id == LedgerTransfer.credit_account_id)
        .join(Pledge, Pledge.id == LedgerTransfer.pledge_id)
        .join(Project, Project.id == Pledge.project_id)
        .where(wrong)
        .order_by(LedgerTransfer.id)
    )
    return [
        f"Transfer {tid} ({code}) of pledge {pledge_id} runs between another campaign's or firm's accounts."
        for tid, code, pledge_id in rows
    ]
