"""Disputes and the firm's connected account. Money a dispute takes from a firm that was
already paid leaves its payable negative: `firm_action` says what its connected account owes
back (a transfer reversal), or is owed again once the dispute is won; `record_firm_action`
and `record_firm_error` book what the processor did. A payout not made yet keeps the
disputed net back instead (`withheld_from_payout`). Each step only flushes;
crowdfund/workflows/dispute_events.py and workflows/payouts.py commit. Lock order as in
services/disputes.py: pledge row -> settlement row -> project row."""

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select

from .. import ledger
from ..domain.clock import utcnow
from ..extensions import db
from ..models import Dispute, LedgerTransfer, Pledge, Project, Settlement
from ..models.dispute import DisputeStatus as DS
from ..models.pledge import PledgeStatus as PS
from . import payout_accounts
from .disputes import _moves
from .pledges import lock


@dataclass(frozen=True)
class FirmAction:
    """A call to make to the firm's connected account about one dispute: `reverse` (take
    `amount` of the payout `ref` back) or `repay` (pay `amount` to the account `ref`)."""

    kind: str
    dispute_id: int
    ref: str
    amount: int
    currency: str
    idempotency_key: str


# -- the firm's connected account ------------------------------------------------------------------
def project_payable(project, settlement_id=None):
    """What the firm's payable holds for this project's money: its pledges' releases and
    disputes, less what was paid out (negative: the firm owes it)."""
    account = ledger.accounts.find_account(ledger.firm_payable_key(project.firm_id, project.currency))
    if account is None:
        return 0
    mine = LedgerTransfer.pledge_id.in_(select(Pledge.id).where(Pledge.project_id == project.id))
    if settlement_id is not None:
        mine = or_(mine, LedgerTransfer.settlement_id == settlement_id)
    credited = LedgerTransfer.credit_account_id == account.id
    total = db.session.scalar(
        select(func.coalesce(func.sum(case((credited, LedgerTransfer.amount), else_=-LedgerTransfer.amount)), 0)).where(
            mine, or_(credited, LedgerTransfer.debit_account_id == account.id)
        )
    )
    return int(total or 0)


def withheld_from_payout(settlement_id, project_id):
    """What a payout of this settlement keeps back: the net of released pledges that a dispute
    has taken from the firm's payable and not given back (it is not the firm's while the
    card network decides). Notes on each dispute whether it was kept back, so a dispute won
    after the payout pays it to the firm then. Locks the settlement row first: a dispute being
    booked at the same moment is counted here, or finds the payout's amount fixed."""
    db.session.execute(select(Settlement.id).where(Settlement.id == settlement_id).with_for_update())
    signed = case((LedgerTransfer.code == ledger.DISPUTE_NET, LedgerTransfer.amount), else_=-LedgerTransfer.amount)
    taken = {
        pledge_id: int(amount)
        for pledge_id, amount in db.session.execute(
            select(LedgerTransfer.pledge_id, func.sum(signed))
            .join(Pledge, Pledge.id == LedgerTransfer.pledge_id)
            .where(
                Pledge.project_id == project_id,
                LedgerTransfer.code.in_((ledger.DISPUTE_NET, ledger.DISPUTE_RETURNS[ledger.DISPUTE_NET])),
            )
            .group_by(LedgerTransfer.pledge_id)
        )
    }
    for dispute in db.session.scalars(
        select(Dispute).join(Pledge, Pledge.id == Dispute.pledge_id).where(Pledge.project_id == project_id)
    ):
        dispute.withheld_from_payout = taken.get(dispute.pledge_id, 0) > 0
    return sum(amount for amount in taken.values() if amount > 0)


def firm_action(dispute_id):
    """What the firm's connected account must do about this dispute now, or None."""
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or not dispute.booked:
        return None
    pledge = dispute.pledge
    project = db.session.get(Project, pledge.project_id)
    settlement = db.session.scalar(select(Settlement).where(Settlement.project_id == project.id))
    if settlement is None or settlement.payout_ref is None:
        return None  # not paid out yet: the payout keeps the disputed net back
    moves = _moves(pledge.id)
    owed = project_payable(project, settlement.id)
    # The net at success, and a remainder released on delivery (its delivery payout went to
    # the same connected account; the reversal takes it back from the settlement's transfer).
    net_taken = moves.get(ledger.DISPUTE_NET, 0) + moves.get(ledger.DISPUTE_DELIVERY, 0)
    if (
        pledge.status == PS.DISPUTED.value
        and owed < 0
        and not dispute.reversal_ref
        and not dispute.withheld_from_payout
        and net_taken
    ):
        return FirmAction(
            "reverse",
            dispute.id,
            settlement.payout_ref,
            min(net_taken, -owed),
            project.currency,
            f"dispute-{dispute.id}-reversal",
        )
    repay = (
        moves.get(ledger.PAYOUT_REVERSAL, 0)
        if dispute.reversal_ref
        else (net_taken if dispute.withheld_from_payout else 0)
    )
    if dispute.pledge_status_before == PS.HELD.value and pledge.status == PS.RELEASED.value:
        # Won after its campaign's payout, then released by its settlement's run: not paid yet.
        repay = moves.get(ledger.RELEASE_NET, 0)
    if dispute.status == DS.WON.value and not dispute.repay_ref and repay and owed > 0:
        destination = payout_accounts.verified_destination(project.firm_id)
        if destination is not None:
            return FirmAction(
                "repay", dispute.id, destination, min(repay, owed), project.currency, f"dispute-{dispute.id}-repay"
            )
    return None


def record_firm_action(action, movement):
    """Book what the processor did for `action` (a MoneyMovement), once."""
    dispute = db.session.get(Dispute, action.dispute_id)
    lock(dispute.pledge_id)
    pledge, project = dispute.pledge, dispute.pledge.project
    settlement_id = db.session.scalar(select(Settlement.id).where(Settlement.project_id == project.id))
    payable = ledger.firm_payable_key(project.firm_id, project.currency)
    clearing = ledger.clearing_key(project.currency)
    if action.kind == "reverse" and dispute.reversal_ref is None:
        ledger.transfer(
            ledger.dispute_leg_id(pledge.id, ledger.PAYOUT_REVERSAL),
            clearing,
            payable,
            movement.amount,
            project.currency,
            ledger.PAYOUT_REVERSAL,
            pledge_id=pledge.id,
            settlement_id=settlement_id,
        )
        dispute.reversal_ref, dispute.reversal_error = movement.ref, None
    elif action.kind == "repay" and dispute.repay_ref is None:
        ledger.transfer(
            ledger.dispute_leg_id(pledge.id, ledger.DISPUTE_REPAY),
            payable,
            clearing,
            movement.amount,
            project.currency,
            ledger.DISPUTE_REPAY,
            pledge_id=pledge.id,
            settlement_id=settlement_id,
        )
        dispute.repay_ref, dispute.reversal_error = movement.ref, None
    dispute.updated_at = utcnow()
    db.session.flush()


def record_firm_error(action, error):
    """The firm's account could not be asked (its balance, the processor): the firm owes the
    money meanwhile (its payable stays negative), shown to admins with this reason."""
    dispute = db.session.get(Dispute, action.dispute_id)
    dispute.reversal_error = f"{getattr(error, 'code', None) or type(error).__name__}: {error}"[:2000]
    dispute.updated_at = utcnow()
    db.session.flush()
