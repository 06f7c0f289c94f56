"""What `verify()` checks of disputes (chargebacks): see invariant 3 in verify.py.

A dispute takes the pledge's money from where it is (escrow while held; after release, the
firm's payable, the platform's fees and the processor fees account, each by what its
release put there) and, when won, gives each leg back to where it came from. So a pledge
whose status is `disputed` has its money with the backer: taken minus given back is its
amount; any other pledge a dispute touched has had all of it given back.
"""

from sqlalchemy import and_

from ..models.pledge import PledgeStatus as PS
from .disputes import (
    DISPUTE_CODES,
    DISPUTE_DELIVERY,
    DISPUTE_ESCROW,
    DISPUTE_FEE,
    DISPUTE_FEE_RETURN,
    DISPUTE_HELD,
    DISPUTE_NET,
    DISPUTE_REPAY,
    DISPUTE_RETURNS,
    DISPUTE_TAKES,
    PAYOUT_REVERSAL,
)

# code -> (debit kind, credit kind, which side is the pledge's project escrow, if any)
DISPUTE_DIRECTIONS = {
    DISPUTE_ESCROW: ("escrow", "gateway_clearing", "debit"),
    DISPUTE_NET: ("firm_payable", "gateway_clearing", None),
    "dispute_release_fee": ("platform_fees", "gateway_clearing", None),
    "dispute_release_pfee": ("processor_fees", "gateway_clearing", None),
    DISPUTE_RETURNS[DISPUTE_ESCROW]: ("gateway_clearing", "escrow", "credit"),
    DISPUTE_RETURNS[DISPUTE_NET]: ("gateway_clearing", "firm_payable", None),
    DISPUTE_RETURNS["dispute_release_fee"]: ("gateway_clearing", "platform_fees", None),
    DISPUTE_RETURNS["dispute_release_pfee"]: ("gateway_clearing", "processor_fees", None),
    DISPUTE_HELD: ("held_for_delivery", "gateway_clearing", None),
    DISPUTE_DELIVERY: ("firm_payable", "gateway_clearing", None),
    DISPUTE_RETURNS[DISPUTE_HELD]: ("gateway_clearing", "held_for_delivery", None),
    DISPUTE_RETURNS[DISPUTE_DELIVERY]: ("gateway_clearing", "firm_payable", None),
    DISPUTE_FEE: ("processor_fees", "gateway_clearing", None),
    DISPUTE_FEE_RETURN: ("gateway_clearing", "processor_fees", None),
    PAYOUT_REVERSAL: ("gateway_clearing", "firm_payable", None),
    DISPUTE_REPAY: ("firm_payable", "gateway_clearing", None),
}
assert set(DISPUTE_DIRECTIONS) == DISPUTE_CODES
# Codes that move a firm's payable -> the side it is on: it must be the pledge's project's firm.
FIRM_SIDES = {
    DISPUTE_NET: "debit",
    DISPUTE_RETURNS[DISPUTE_NET]: "credit",
    PAYOUT_REVERSAL: "credit",
    DISPUTE_REPAY: "debit",
    DISPUTE_DELIVERY: "debit",
    DISPUTE_RETURNS[DISPUTE_DELIVERY]: "credit",
}
# The legs taken from what the release at success put in each account (each all of it), and
# the on_delivery remainder's legs: from held_for_delivery, or from the firm's payable once
# it was released on delivery (one or the other, together what was held back).
DELIVERY_LEGS = (DISPUTE_HELD, DISPUTE_DELIVERY)
RELEASES = {leg: release for leg, release in DISPUTE_TAKES.items() if release and leg not in DELIVERY_LEGS}
RELEASED_CODES = (*RELEASES.values(), "delivery_hold")


def firm_mismatches(code_column, debit, credit, firm_id_column):
    """SQL conditions: a dispute transfer moving another firm's payable than the pledge's."""
    return [
        and_(code_column == code, (debit if side == "debit" else credit).firm_id != firm_id_column)
        for code, side in FIRM_SIDES.items()
    ]


def dispute_problems(name, status, amount, count, total):
    """Problems with a pledge's dispute transfers (`count(code)` / `total(code)` of its moves)."""
    if status != PS.DISPUTED.value and not any(count(code) for code in DISPUTE_CODES):
        return []
    problems = []
    repeated = sorted(code for code in DISPUTE_CODES if count(code) > 1)
    if repeated:
        problems.append(f"{name} has more than one {', '.join(repeated)} transfer (a charge is disputed once).")
    for taken, back in DISPUTE_RETURNS.items():
        if count(back) and total(back) != total(taken):
            problems.append(f"{name}: its dispute gave back {total(back)} ({back}) but took {total(taken)} ({taken}).")
    from_release = [leg for leg in (*RELEASES, *DELIVERY_LEGS) if count(leg)]
    if from_release and count(DISPUTE_ESCROW) > count(DISPUTE_RETURNS[DISPUTE_ESCROW]):
        problems.append(f"{name}: its dispute took money from escrow and from the release at once.")
    if from_release and any(total(leg) != total(RELEASES[leg]) for leg in RELEASES):
        problems.append(
            f"{name}: its dispute took {sum(total(leg) for leg in RELEASES)} after release, not what "
            f"the release put in each account ({sum(total(code) for code in RELEASES.values())})."
        )
    problems += _delivery_leg_problems(name, count, total)
    taken = sum(total(code) for code in DISPUTE_TAKES)
    given = sum(total(code) for code in DISPUTE_RETURNS.values())
    if status == PS.DISPUTED.value:
        if taken - given != amount:
            problems.append(
                f"{name} is disputed, but its dispute took {taken} and gave back {given}: the backer "
                f"does not have its amount."
            )
        released = sum(total(code) for code in RELEASED_CODES)
        if released and released != amount:
            problems.append(f"{name} was released before its dispute, but its release moved {released}.")
        if count("pledge_refund"):
            problems.append(f"{name} is disputed and also refunded.")
    elif taken != given:
        problems.append(f"{name} is {status}, but a dispute took {taken} of it and gave back only {given}.")
    from_firm = total(DISPUTE_NET) + total(DISPUTE_DELIVERY)
    if total(PAYOUT_REVERSAL) > from_firm:
        problems.append(
            f"{name}: {total(PAYOUT_REVERSAL)} was taken back from the firm, more than its dispute "
            f"took from the firm's payable ({from_firm})."
        )
    if total(DISPUTE_FEE_RETURN) > total(DISPUTE_FEE):
        problems.append(
            f"{name}: more of the dispute fee came back ({total(DISPUTE_FEE_RETURN)}) than was "
            f"charged ({total(DISPUTE_FEE)})."
        )
    return problems


def _delivery_leg_problems(name, count, total):
    """An on_delivery pledge's remainder is taken once, from where it was: held_for_delivery
    while held, the firm's payable once released on delivery."""
    if not (count(DISPUTE_HELD) or count(DISPUTE_DELIVERY)):
        return []
    if count(DISPUTE_HELD) and count(DISPUTE_DELIVERY):
        return [f"{name}: its dispute took the held remainder from held_for_delivery and from the firm at once."]
    if total(DISPUTE_HELD) + total(DISPUTE_DELIVERY) != total("delivery_hold"):
        return [
            f"{name}: its dispute took {total(DISPUTE_HELD) + total(DISPUTE_DELIVERY)} of the remainder held for "
            f"delivery, which was {total('delivery_hold')}."
        ]
    if count(DISPUTE_DELIVERY) and total(DISPUTE_DELIVERY) != total("delivery_release"):
        return [
            f"{name}: its dispute took {total(DISPUTE_DELIVERY)} from the firm, but "
            f"{total('delivery_release')} was released on delivery."
        ]
    return []
