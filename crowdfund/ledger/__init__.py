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
    processor's fee   pledge:<id>:processor_fee   processor_fees -> clearing    processor_fee
    (the firm bears   pledge:<id>:processor_fee_release
     it at release)                               escrow -> processor_fees    release_processor_fee

The processor keeps its fee on every successful charge and does not return it on a refund:
`processor_fee` books it when the charge succeeds (the processor holds that much less for
us), whatever becomes of the pledge. With PROCESSOR_FEES_PAID_BY = "firm", a successful
campaign's release takes it back out of the firm's share (`release_processor_fee`);
otherwise it stays the platform's cost.
"""
from .accounts import (clearing_key, escrow_key, firm_payable_key, get_account,  # noqa: F401
                       platform_fees_key, processor_fees_key)
from .errors import LedgerError, TransferConflict  # noqa: F401
from .transfers import (BatchResult, Transfer, balance, transfer, transfer_many, transfer_set)  # noqa: F401
from .verify import verify  # noqa: F401

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
