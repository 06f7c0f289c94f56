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
dispute is won (dispute_firm_account.py). Lock order: pledge row -> settlement row -> project row.
"""

import logging

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from .. import after_commit, change_tokens, ledger
from ..domain.clock import utcnow
from ..extensions import db
from ..models import Dispute, LedgerAccount, LedgerTransfer, Pledge, Project, Settlement
from ..models.dispute import DisputeStatus as DS
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectStatus
from . import delivery_disputes, dispute_notices
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
    if info.status == DS.LOST.value and pledge.status == PS.DISPUTED.value:
        delivery_disputes.lost(pledge)
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
    delivery_disputes.lock_delivery(pledge.id)  # on_delivery: its remainder stays where it is while we look
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
            for code, amount, _debit_key, credit_key in delivery_disputes.remainder_legs(_legs(pledge.id, list(leg_of)))
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
    else:
        delivery_disputes.taken(pledge, dispute.processor_ref)


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
    delivery_disputes.given_back(pledge, dispute.processor_ref)
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
