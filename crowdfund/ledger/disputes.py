"""Ledger codes and transfer ids of disputes (chargebacks). Re-exported by `crowdfund.ledger`.

The processor withdraws the disputed amount (and its dispute fee) from our balance. It is
taken from wherever the pledge's money is, leg by leg, and a dispute won puts each leg
back where it came from (`dispute_won_*`: the same accounts, the other way). A lost
dispute moves nothing more: the money stays with the backer.

    while held        pledge:<id>:dispute:escrow         escrow         -> clearing  dispute_escrow
    after release     pledge:<id>:dispute:net            firm_payable   -> clearing  dispute_net
                      pledge:<id>:dispute:fee            platform_fees  -> clearing  dispute_release_fee
                      pledge:<id>:dispute:pfee           processor_fees -> clearing  dispute_release_pfee
    on_delivery, the part still held for delivery:
                      pledge:<id>:dispute:held           held_for_delivery -> clearing  dispute_held
    on_delivery, the part released on delivery (paid out or not):
                      pledge:<id>:dispute:delivery       firm_payable   -> clearing  dispute_delivery
    won               pledge:<id>:dispute_won:<leg>      the same accounts, back  dispute_won_<...>
    dispute fee       pledge:<id>:dispute:processor_fee  processor_fees -> clearing  dispute_fee
    (given back)      pledge:<id>:dispute_won:processor_fee  clearing -> processor_fees  dispute_fee_return
    firm already paid pledge:<id>:dispute:reversal       clearing -> firm_payable  payout_reversal
    won after that    pledge:<id>:dispute:repay          firm_payable -> clearing  dispute_repay

After the firm was paid, `dispute_net` leaves the firm's payable negative (the firm owes it)
until the transfer reversal from its connected account (`payout_reversal`) brings it back.
`dispute_release_pfee` only exists when the firm bore the processor's fee at release
(PROCESSOR_FEES_PAID_BY = "firm"): on a disputed charge the platform bears it, as it does
on a failed campaign.
"""

DISPUTE_ESCROW = "dispute_escrow"
DISPUTE_NET = "dispute_net"
DISPUTE_RELEASE_FEE = "dispute_release_fee"
DISPUTE_RELEASE_PFEE = "dispute_release_pfee"
DISPUTE_FEE = "dispute_fee"
DISPUTE_FEE_RETURN = "dispute_fee_return"
PAYOUT_REVERSAL = "payout_reversal"
DISPUTE_REPAY = "dispute_repay"
# Release on delivery (ledger/delivery.py): the held remainder, where it is when the dispute comes.
DISPUTE_HELD = "dispute_held"
DISPUTE_DELIVERY = "dispute_delivery"

# What a dispute takes, leg by leg -> the release code whose account that leg comes from
# (None: the project's escrow, for a pledge still held).
DISPUTE_TAKES = {
    DISPUTE_ESCROW: None,
    DISPUTE_NET: "release_net",
    DISPUTE_RELEASE_FEE: "release_fee",
    DISPUTE_RELEASE_PFEE: "release_processor_fee",
    DISPUTE_HELD: "delivery_hold",  # still in held_for_delivery
    DISPUTE_DELIVERY: "delivery_release",  # released to the firm's payable (instead of DISPUTE_HELD)
}
# Each leg taken -> the code of the same leg given back when the dispute is won.
DISPUTE_RETURNS = {code: "dispute_won_" + code[len("dispute_") :] for code in DISPUTE_TAKES}
DISPUTE_CODES = frozenset(
    {*DISPUTE_TAKES, *DISPUTE_RETURNS.values(), DISPUTE_FEE, DISPUTE_FEE_RETURN, PAYOUT_REVERSAL, DISPUTE_REPAY}
)

_LEGS = {
    DISPUTE_ESCROW: "escrow",
    DISPUTE_NET: "net",
    DISPUTE_RELEASE_FEE: "fee",
    DISPUTE_RELEASE_PFEE: "pfee",
    DISPUTE_FEE: "processor_fee",
    PAYOUT_REVERSAL: "reversal",
    DISPUTE_REPAY: "repay",
    DISPUTE_HELD: "held",
    DISPUTE_DELIVERY: "delivery",
}
_LEGS.update({back: _LEGS[taken] for taken, back in DISPUTE_RETURNS.items()})
_LEGS[DISPUTE_FEE_RETURN] = "processor_fee"
_GIVING_BACK = frozenset({*DISPUTE_RETURNS.values(), DISPUTE_FEE_RETURN})


def dispute_leg_id(pledge_id, code):
    """The transfer id of a dispute's leg `code` for this pledge. A card network lets a
    charge be disputed once, so each leg happens at most once per pledge."""
    side = "dispute_won" if code in _GIVING_BACK else "dispute"
    return f"pledge:{pledge_id}:{side}:{_LEGS[code]}"
