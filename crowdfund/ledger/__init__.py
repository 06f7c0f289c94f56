"""The double-entry ledger, after TigerBeetle. The ONLY code that writes ledger rows.

Accounts are named by keys and made on first use (`accounts.py`); transfers are
append-only and idempotent by a caller-chosen id (`transfers.py`); balances are always
computed from the transfers, never cached (a cached balance column on the one clearing
account would serialise every pledge in the platform); `verify()` checks the invariants
(`verify.py`).

Direction: a transfer debits one account and credits another with the same positive
amount. An account's balance is credits minus debits, so money *in* escrow is a positive
escrow balance, and `gateway_clearing` (the processor's side) runs negative by exactly
what the platform holds.

Flows and codes:

    pledge held       pledge:<id>:hold      clearing      -> escrow        pledge_hold
    pledge returned   pledge:<id>:refund    escrow        -> clearing      pledge_refund
    campaign wins     pledge:<id>:net       escrow        -> firm_payable  release_net
                      pledge:<id>:fee       escrow        -> platform_fees release_fee
    firm paid         settlement:<id>:payout firm_payable -> clearing      payout
    reserve paid      settlement:<id>:reserve_payout
                                             firm_payable -> clearing      payout
    processor's fee   pledge:<id>:processor_fee   processor_fees -> clearing    processor_fee
    (the firm bears   pledge:<id>:processor_fee_release
     it at release)                               escrow -> processor_fees    release_processor_fee

The processor keeps its fee on every successful charge and does not return it on a refund:
`processor_fee` books it when the charge succeeds (the processor holds that much less for
us), whatever becomes of the pledge. With PROCESSOR_FEES_PAID_BY = "firm", a successful
campaign's release takes it back out of the firm's share (`release_processor_fee`);
otherwise it stays the platform's cost.

A refund the processor reports failed after it took it (the backer's bank refused it) comes
back to our balance at the processor; the backer is still owed it. Attempt <n> (1 is the
first refund, `pledge:<id>:refund`) and the retry after it:

    refund failed     pledge:<id>:refund_failed:<n>  clearing -> refunds_owed   refund_failed
    refund retried    pledge:<id>:refund:<n+1>       refunds_owed -> clearing   refund_retry
"""

from .accounts import (
    clearing_key,
    escrow_key,
    firm_payable_key,
    get_account,
    held_for_delivery_key,
    platform_fees_key,
    processor_fees_key,
    refunds_owed_key,
)

# Release on delivery: an on_delivery campaign's held remainders (delivery.py).
from .delivery import (
    DELIVERY_CODES,
    DELIVERY_HOLD,
    DELIVERY_REFUND,
    DELIVERY_RELEASE,
    delivery_hold_id,
    delivery_payout_id,
    delivery_refund_id,
    delivery_release_id,
)

# Disputes (chargebacks): their codes, legs and transfer ids are described in disputes.py.
from .disputes import (
    DISPUTE_CODES,
    DISPUTE_DELIVERY,
    DISPUTE_ESCROW,
    DISPUTE_FEE,
    DISPUTE_FEE_RETURN,
    DISPUTE_HELD,
    DISPUTE_NET,
    DISPUTE_RELEASE_FEE,
    DISPUTE_RELEASE_PFEE,
    DISPUTE_REPAY,
    DISPUTE_RETURNS,
    DISPUTE_TAKES,
    PAYOUT_REVERSAL,
    dispute_leg_id,
)
from .errors import LedgerError, TransferConflict
from .transfers import BatchResult, Transfer, balance, transfer, transfer_many, transfer_set
from .verify import verify

# Transfer codes (what moved the money). verify() knows the direction of each.
PLEDGE_HOLD = "pledge_hold"
PLEDGE_REFUND = "pledge_refund"
RELEASE_NET = "release_net"
RELEASE_FEE = "release_fee"
PAYOUT = "payout"
PROCESSOR_FEE = "processor_fee"
RELEASE_PROCESSOR_FEE = "release_processor_fee"


def hold_id(pledge_id):
    return f"pledge:{pledge_id}:hold"


def refund_id(pledge_id):
    return f"pledge:{pledge_id}:refund"


def release_net_id(pledge_id):
    return f"pledge:{pledge_id}:net"


def release_fee_id(pledge_id):
    return f"pledge:{pledge_id}:fee"


def processor_fee_id(pledge_id):
    return f"pledge:{pledge_id}:processor_fee"


def release_processor_fee_id(pledge_id):
    return f"pledge:{pledge_id}:processor_fee_release"


# A held pledge changed while its campaign is live (crowdfund/workflows/pledge_change.py):
# escrow grows or shrinks by the difference, under the change's number <n>. An upgrade is a
# new charge of the new total (the old charge is then refunded in full), and the processor
# keeps its fee on that charge too.
#
#     pledge grows      pledge:<id>:change:<n>                 clearing -> escrow         pledge_increase
#     pledge shrinks    pledge:<id>:change:<n>                 escrow -> clearing         pledge_decrease
#     its charge's fee  pledge:<id>:change:<n>:processor_fee   processor_fees -> clearing change_processor_fee
PLEDGE_INCREASE = "pledge_increase"
PLEDGE_DECREASE = "pledge_decrease"
CHANGE_PROCESSOR_FEE = "change_processor_fee"


def change_id(pledge_id, number):
    return f"pledge:{pledge_id}:change:{number}"


def change_processor_fee_id(pledge_id, number):
    return f"pledge:{pledge_id}:change:{number}:processor_fee"


# Failed refunds (crowdfund/workflows/refund_failures.py): attempt 1 is the first refund.
REFUND_FAILED = "refund_failed"
REFUND_RETRY = "refund_retry"


def refund_failed_id(pledge_id, attempt):
    return f"pledge:{pledge_id}:refund_failed:{attempt}"


def refund_retry_id(pledge_id, attempt):
    return f"pledge:{pledge_id}:refund:{attempt}"


# A refund a pledge change made that fails (crowdfund/workflows/change_refund_failures.py): the
# same codes, under ids that name the change, so each change's failures are counted on their own.
CHANGE_TRANSFER_IDS = "pledge:%:change:%"  # LIKE pattern of every transfer a change made


def change_refund_failed_id(pledge_id, number, attempt):
    return f"{change_id(pledge_id, number)}:refund_failed:{attempt}"


def change_refund_retry_id(pledge_id, number, attempt):
    return f"{change_id(pledge_id, number)}:refund:{attempt}"
