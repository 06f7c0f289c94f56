"""TEMPORARY stand-in (branch `api`), replaced by the settlement work at merge.

Only the two read functions the API serves, with the signatures the real module keeps:
`statement(project)` and `holdings_of(user)`. Computed from the ledger and the share
register in the simplest way.
"""
from sqlalchemy import func, select

from .. import ledger
from ..extensions import db
from ..ledger.accounts import find_account
from ..models import LedgerTransfer, Pledge, Settlement, ShareHolding
from ..models.pledge import PledgeStatus as PS


def _sum(*conditions):
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerTransfer.amount), 0)).where(*conditions)))


def statement(project):
    """Where the campaign's money is, in minor units of its currency.

    gross: everything that entered escrow; refunded: everything returned to backers
    (`cancelled` is the part returned because backers cancelled); fee: the platform's
    fee; paid_out: paid to the firm; awaiting_payout: released to the firm, not yet paid;
    in_escrow: still held. gross - refunded = in_escrow + fee + paid_out + awaiting_payout.
    """
    escrow = find_account(ledger.escrow_key(project))
    if escrow is None:
        gross = refunded = cancelled = fee = net = 0
    else:
        gross = _sum(LedgerTransfer.credit_account_id == escrow.id, LedgerTransfer.code == ledger.PLEDGE_HOLD)
        refunded = _sum(LedgerTransfer.debit_account_id == escrow.id, LedgerTransfer.code == ledger.PLEDGE_REFUND)
        cancelled = _sum(LedgerTransfer.debit_account_id == escrow.id, LedgerTransfer.code == ledger.PLEDGE_REFUND,
                         LedgerTransfer.pledge_id.in_(select(Pledge.id).where(
                             Pledge.project_id == project.id, Pledge.status == PS.CANCELLED.value)))
        fee = _sum(LedgerTransfer.debit_account_id == escrow.id, LedgerTransfer.code == ledger.RELEASE_FEE)
        net = _sum(LedgerTransfer.debit_account_id == escrow.id, LedgerTransfer.code == ledger.RELEASE_NET)
    paid_out = _sum(LedgerTransfer.code == ledger.PAYOUT, LedgerTransfer.settlement_id.in_(
        select(Settlement.id).where(Settlement.project_id == project.id)))
    return {"gross": gross, "cancelled": cancelled, "refunded": refunded, "fee": fee, "paid_out": paid_out,
            "awaiting_payout": net - paid_out, "in_escrow": gross - refunded - fee - net,
            "currency": project.currency}


def holdings_of(user):
    """The user's entries on share registers, newest first."""
    return db.session.scalars(select(ShareHolding).where(ShareHolding.user_id == user.id)
                              .order_by(ShareHolding.acquired_at.desc(), ShareHolding.id.desc())).all()
