"""Release on delivery: the codes and transfer ids of an `on_delivery` campaign's held remainders.

At success each pledge's net is split (crowdfund/workflows/settlement_release.py with
crowdfund/services/deliveries.py): RELEASE_AT_SUCCESS_BPS of it goes to the firm as usual
(`release_net`), the rest waits per pledge in the campaign's `held_for_delivery` account:

    remainder held     pledge:<id>:delivery_hold     escrow            -> held_for_delivery  delivery_hold
    reward delivered   pledge:<id>:delivery_release  held_for_delivery -> firm_payable       delivery_release
    remainder refunded pledge:<id>:delivery_refund   held_for_delivery -> clearing           delivery_refund
    daily payout       delivery_payout:<batch id>    firm_payable      -> clearing           payout

A released pledge's money is still in exactly one place: release_net + release_fee (+ the
firm's processor fee) + delivery_hold is its amount, and its delivery_hold is either still in
held_for_delivery or has left it once, released or refunded (verify_delivery.py).
"""

DELIVERY_HOLD = "delivery_hold"
DELIVERY_RELEASE = "delivery_release"
DELIVERY_REFUND = "delivery_refund"
DELIVERY_CODES = (DELIVERY_HOLD, DELIVERY_RELEASE, DELIVERY_REFUND)


def delivery_hold_id(pledge_id):
    return f"pledge:{pledge_id}:delivery_hold"


def delivery_release_id(pledge_id):
    return f"pledge:{pledge_id}:delivery_release"


def delivery_refund_id(pledge_id):
    return f"pledge:{pledge_id}:delivery_refund"


def delivery_payout_id(batch_id):
    return f"delivery_payout:{batch_id}"
