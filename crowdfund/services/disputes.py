"""Disputes (chargebacks) in our books. Each step only flushes; crowdfund/workflows/dispute_events.py
commits, and makes the processor calls between the steps.

The processor is the truth. `apply(info, pledge_id)` makes our books say what its answer
`info` (a DisputeInfo) says, whatever they said before, so the same answer applied twice,
late, or after a later one changes nothing more:

- the processor took the disputed amount from our balance and our books do not show it: the money
  is taken from wherever the pledge's is (the legs are in crowdfund/ledger/disputes.py) and
  the pledge becomes `disputed`. A held pledge's comes out of escrow, and a live campaign's
  totals give it up as for a cancellation; a released pledge's comes out of the firm's
  payable (the net), the platform's fees (the fee) and, when the firm bore the processor's
  fee, the processor fees account;
- the processor gave it back (won; also when that is the first we hear of it): each leg goes
  back where it came from, the pledge
  is again what it was, and a held pledge of a campaign that closed meanwhile is handed to
  its settlement again;
- lost: nothing more moves; the money stays with the backer;
- the dispute fee (the platform's cost) is booked as the processor charges it.

Money taken from a firm that was already paid leaves its payable negative: `firm_action`
says what its connected account owes back (a transfer reversal), or is owed again once the
dispute is won. Lock order: pledge row -> settlement row -> project row.
"""

import logging
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload

from .. import after_commit, change_tokens, ledger
from ..domain.clock import utcnow
from ..extensions import db
from ..models import Dispute, LedgerAccount, LedgerTransfer, Pledge, Project, Settlement
from ..models.dispute import DisputeStatus as DS
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectStatus
from . import dispute_notices, payout_accounts
from .pledges import lock
from .transitions import transition

log = logging.getLogger(__name__)

TAKEABLE = (PS.HELD.value, PS.RELEASED.value)
CLOSED_PROJECT = {
    ProjectStatus.SUCCESSFUL.value,
    ProjectStatus.FAILED.value,
    ProjectStatus.CANCELLED.value,
    ProjectStatus.SUSPENDED.value,
}


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


def pledge_of(info):
    """The id of the pledge the dispute `info` is about, or None (not a charge of ours)."""
    if info.pledge_id is not None:
        found = db.session.execute(select(Pledge.id, Pledge.charge_ref).where(Pledge.id == info.pledge_id)).first()
        # No ref yet: our charge call never heard back (the workflow adopts the payment first).
        if found is not None and found.charge_ref in (None, info.charge_ref):
            return info.pledge_id
    if not info.charge_ref:
        return None
    # Rare (a dispute whose payment names no pledge): pledges.charge_ref has no index.
    return db.session.scalar(select(Pledge.id).where(Pledge.charge_ref == info.charge_ref).limit(1))


def apply(info, pledge_id):
    """Make our books agree with the processor's answer `info` about a dispute of the
    pledge's charge. Returns the Dispute, or None when another dispute holds the pledge."""
    pledge = lock(pledge_id)
    now = utcnow()
    dispute = db.session.scalar(select(Dispute).where(Dispute.processor_ref == info.ref))
    opened = dispute is None
    if opened:
        if db.session.scalar(select(Dispute.id).where(Dispute.pledge_id == pledge_id)) is not None:
            log.error(
                "Dispute %s names pledge %s, which another dispute holds already; left for an admin",
                info.ref,
                pledge_id,
            )
            return None
        dispute = Dispute(
            processor_ref=info.ref,
            pledge_id=pledge_id,
            amount=info.amount,
            currency=info.currency,
            pledge_status_before=pledge.status,
            opened_at=now,
            fee=0,
            booked=False,
            totals_moved=False,
        )
        db.session.add(dispute)
    dispute.status, dispute.reason, dispute.updated_at = info.status, info.reason[:50], now
    dispute.evidence_due_by = info.evidence_due_by
    dispute.evidence_url = info.evidence_url or dispute.evidence_url
    if info.status in (DS.WON.value, DS.LOST.value) and dispute.closed_at is None:
        dispute.closed_at = now
    db.session.flush()
    moves = _moves(pledge_id)
    taken = sum(moves.get(code, 0) for code in ledger.DISPUTE_TAKES)
    given_back = sum(moves.get(code, 0) for code in ledger.DISPUTE_RETURNS.values())
    if info.funds_withdrawn and not taken:
        if pledge.status in TAKEABLE and (info.funds_withdrawn, info.currency) == (pledge.amount, pledge.currency):
            _take(pledge, dispute)
            taken = pledge.amount
        else:
            # Nothing of ours to take it from (the pledge was returned already, or the amounts
            # differ): the processor's balance and ours now differ, and reconcile says so.
            log.error(
                "Dispute %s of pledge %s (%s, %s %s): the processor withdrew %s %s, which our books "
                "cannot take from anywhere; left for an admin",
                info.ref,
                pledge_id,
                pledge.status,
                pledge.amount,
                pledge.currency,
                info.funds_withdrawn,
                info.currency,
            )
    if info.funds_reinstated and taken and not given_back:  # seen only once won, too: taken, then given back
        _give_back(pledge, dispute)
    if dispute.booked:  # a fee on money our books could not take stays with what an admin must look at
        _book_fee(pledge, dispute, info, moves)
    if info.status == DS.LOST.value and pledge.status == PS.DISPUTED.value and pledge.ended_at is None:
        pledge.ended_at = now
    if opened:
        dispute_notices.opened(dispute, pledge)
    db.session.flush()
    return dispute


def _moves(pledge_id):
    """{code: amount} of the pledge's ledger transfers."""
    return {
        code: int(total)
        for code, total in db.session.execute(
            select(LedgerTransfer.code, func.sum(LedgerTransfer.amount))
            .where(LedgerTransfer.pledge_id == pledge_id)
            .group_by(LedgerTransfer.code)
        )
    }


def _legs(pledge_id, codes):
    """[(code, amount, debit key, credit key)] of the pledge's transfers with these codes."""
    debit, credit = aliased(LedgerAccount), aliased(LedgerAccount)
    return db.session.execute(
        select(LedgerTransfer.code, LedgerTransfer.amount, debit.key, credit.key)
        .join(debit, debit.id == LedgerTransfer.debit_account_id)
        .join(credit, credit.id == LedgerTransfer.credit_account_id)
        .where(LedgerTransfer.pledge_id == pledge_id, LedgerTransfer.code.in_(codes))
        .order_by(LedgerTransfer.code)
    ).all()


def _settlement_locked(project_id):
    """The project's settlement row, locked: a payout being worked out waits for this
    dispute's booking, or this booking for the payout's amount (`withheld_from_payout`)."""
    return db.session.scalar(select(Settlement).where(Settlement.project_id == project_id).with_for_update())


def _take(pledge, dispute):
    clearing = ledger.clearing_key(pledge.currency)
    settlement = _settlement_locked(pledge.project_id)
    settlement_id = settlement.id if settlement is not None else None
    if pledge.status == PS.HELD.value:
        moves = [
            ledger.Transfer(
                ledger.dispute_leg_id(pledge.id, ledger.DISPUTE_ESCROW),
                ledger.escrow_key(pledge.project_id),
                clearing,
                pledge.amount,
                pledge.currency,
                ledger.DISPUTE_ESCROW,
                pledge.id,
            )
        ]
    else:  # released: each part from the account its release went to
        leg_of = {release: leg for leg, release in ledger.DISPUTE_TAKES.items() if release}
        moves = [
            ledger.Transfer(
                ledger.dispute_leg_id(pledge.id, leg_of[code]),
                credit_key,
                clearing,
                amount,
                pledge.currency,
                leg_of[code],
                pledge.id,
                settlement_id,
            )
            for code, amount, _debit_key, credit_key in _legs(pledge.id, list(leg_of))
        ]
    ledger.transfer_set(*moves)
    before = pledge.status
    dispute.pledge_status_before, dispute.booked = before, True
    transition(
        pledge,
        PS.DISPUTED,
        note=f"dispute {dispute.processor_ref} ({dispute.reason}): the processor took the money back",
    )
    if before == PS.HELD.value:
        dispute.totals_moved = _give_up_totals(pledge)


def _give_back(pledge, dispute):
    clearing = ledger.clearing_key(pledge.currency)
    settlement = _settlement_locked(pledge.project_id)
    settlement_id = settlement.id if settlement is not None else None
    ledger.transfer_set(
        *[
            ledger.Transfer(
                ledger.dispute_leg_id(pledge.id, ledger.DISPUTE_RETURNS[code]),
                clearing,
                debit_key,
                amount,
                pledge.currency,
                ledger.DISPUTE_RETURNS[code],
                pledge.id,
                None if code == ledger.DISPUTE_ESCROW else settlement_id,
            )
            for code, amount, debit_key, _credit_key in _legs(pledge.id, list(ledger.DISPUTE_TAKES))
        ]
    )
    if pledge.status != PS.DISPUTED.value:  # pragma: no cover - only a dispute takes a pledge out of held/released
        log.error("Dispute %s won, but pledge %s is %s", dispute.processor_ref, pledge.id, pledge.status)
        return
    transition(pledge, dispute.pledge_status_before, note=f"dispute {dispute.processor_ref} won: the money came back")
    pledge.ended_at = pledge.ended_at if dispute.pledge_status_before == PS.RELEASED.value else None
    if dispute.totals_moved:
        _take_back_totals(pledge)
    project = db.session.get(Project, pledge.project_id)
    if dispute.pledge_status_before == PS.HELD.value and project.status in CLOSED_PROJECT:
        # Held again after its campaign closed: its settlement releases or refunds it.
        after_commit.start_settlement(project.id)


def _other_held(pledge):
    return (
        db.session.scalar(
            select(Pledge.id)
            .where(
                Pledge.project_id == pledge.project_id,
                Pledge.backer_id == pledge.backer_id,
                Pledge.status == PS.HELD.value,
                Pledge.id != pledge.id,
            )
            .limit(1)
        )
        is not None
    )


def _give_up_totals(pledge):
    """A live campaign's totals give the pledge up (as for a cancellation). True if they did:
    once the campaign has closed, its settlement owns them."""
    moved = db.session.execute(
        update(Project)
        .where(Project.id == pledge.project_id, Project.status == ProjectStatus.LIVE.value)
        .values(
            pledged_amount=Project.pledged_amount - pledge.amount,
            backer_count=Project.backer_count - (0 if _other_held(pledge) else 1),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved:
        change_tokens.campaign_changed(db.session, pledge.project_id)
    return bool(moved)


def _take_back_totals(pledge):
    db.session.execute(
        update(Project)
        .where(Project.id == pledge.project_id)
        .values(
            pledged_amount=Project.pledged_amount + pledge.amount,
            backer_count=Project.backer_count + (0 if _other_held(pledge) else 1),
        )
        .execution_options(synchronize_session=False)
    )
    change_tokens.campaign_changed(db.session, pledge.project_id)


def _book_fee(pledge, dispute, info, moves):
    """The processor's dispute fee as it charges it now (and what it gives back of it)."""
    if info.currency != pledge.currency:
        return
    booked, returned = moves.get(ledger.DISPUTE_FEE, 0), moves.get(ledger.DISPUTE_FEE_RETURN, 0)
    fees, clearing = ledger.processor_fees_key(pledge.currency), ledger.clearing_key(pledge.currency)
    if info.fee > 0 and not booked:
        ledger.transfer(
            ledger.dispute_leg_id(pledge.id, ledger.DISPUTE_FEE),
            fees,
            clearing,
            info.fee,
            pledge.currency,
            ledger.DISPUTE_FEE,
            pledge_id=pledge.id,
        )
        booked = info.fee
    elif booked and not returned and info.fee < booked:
        ledger.transfer(
            ledger.dispute_leg_id(pledge.id, ledger.DISPUTE_FEE_RETURN),
            clearing,
            fees,
            booked - info.fee,
            pledge.currency,
            ledger.DISPUTE_FEE_RETURN,
            pledge_id=pledge.id,
        )
        returned = booked - info.fee
    elif booked - returned != info.fee:
        log.warning(
            "Dispute %s: the processor's fee is now %s, our books say %s", info.ref, info.fee, booked - returned
        )
    dispute.fee = booked - returned


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
    net_taken = moves.get(ledger.DISPUTE_NET, 0)
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


# -- the admin page -------------------------------------------------------------------------------
def for_admin(limit=200):
    """Disputes, open ones first (soonest evidence deadline first), then the newest closed."""
    return db.session.scalars(
        select(Dispute)
        .options(joinedload(Dispute.pledge).joinedload(Pledge.project).joinedload(Project.firm))
        .order_by(case((Dispute.closed_at.is_(None), 0), else_=1), Dispute.evidence_due_by, Dispute.id.desc())
        .limit(limit)
    ).all()


def firm_balances():
    """[(project, balance)] of paid-out campaigns with disputes whose firm's payable for them
    is not zero: negative, the firm owes it (a reversal failed or is waiting); positive, it is
    owed (a dispute won after its payout)."""
    rows = db.session.execute(
        select(Project, Settlement.id)
        .join(Settlement, and_(Settlement.project_id == Project.id, Settlement.payout_ref.is_not(None)))
        .where(Project.id.in_(select(Pledge.project_id).join(Dispute, Dispute.pledge_id == Pledge.id)))
        .order_by(Project.id)
    ).all()
    balances = [(project, project_payable(project, settlement_id)) for project, settlement_id in rows]
    return [(project, balance) for project, balance in balances if balance]
