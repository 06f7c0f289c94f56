"""Settlement, release: a successful campaign's held pledges, one transaction per batch, move
from escrow to the firm's payable (net) and the platform's fees; equity writes the share
register. `settle` (settlement.py) runs the batches; the module docstring there is the map."""

import logging

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import after_commit, ledger
from ..database import one_of
from ..domain.clock import utcnow
from ..domain.fees import split_fee
from ..extensions import db
from ..models import LedgerTransfer, Pledge, Project, ShareHolding
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectKind
from ..services import deliveries, notifications, transitions

log = logging.getLogger(__name__)


def _config(key):
    return current_app.config[key]


def _postgres():
    return db.session.get_bind().dialect.name == "postgresql"


# -- release ------------------------------------------------------------------------------------
def _release_batch(settlement_id, project_id, size):
    """Release one batch of held pledges in one transaction. Returns how many it released."""
    project = db.session.get(Project, project_id)
    query = (
        select(Pledge)
        .where(Pledge.project_id == project_id, Pledge.status == PS.HELD.value)
        .order_by(Pledge.id)
        .limit(size)
    )
    if _postgres():
        query = query.with_for_update(skip_locked=True, of=Pledge)
    pledges = db.session.scalars(query).all()
    if not pledges:
        db.session.commit()
        return 0
    bps, now = _config("PLATFORM_FEE_BPS"), utcnow()
    escrow = ledger.escrow_key(project_id)
    payable = ledger.firm_payable_key(project.firm_id, project.currency)
    fees = ledger.platform_fees_key(project.currency)
    processor_fees = ledger.processor_fees_key(project.currency)
    borne = _processor_fees_of(pledges) if _config("PROCESSOR_FEES_PAID_BY") == "firm" else {}
    transfers, held_back = [], {}
    for pledge in pledges:
        net, fee = split_fee(pledge.amount, bps)
        kept = min(borne.get(pledge.id, 0), net)  # the firm bears what the processor kept
        net -= kept
        # Release on delivery: part of the net waits per pledge in held_for_delivery.
        net, held_back[pledge.id] = deliveries.hold_back(project, net)
        if held_back[pledge.id]:
            transfers.append(deliveries.hold_transfer(project, pledge, held_back[pledge.id], settlement_id))
        if net:
            transfers.append(
                ledger.Transfer(
                    ledger.release_net_id(pledge.id),
                    escrow,
                    payable,
                    net,
                    pledge.currency,
                    ledger.RELEASE_NET,
                    pledge.id,
                    settlement_id,
                )
            )
        if fee:
            transfers.append(
                ledger.Transfer(
                    ledger.release_fee_id(pledge.id),
                    escrow,
                    fees,
                    fee,
                    pledge.currency,
                    ledger.RELEASE_FEE,
                    pledge.id,
                    settlement_id,
                )
            )
        if kept:
            transfers.append(
                ledger.Transfer(
                    ledger.release_processor_fee_id(pledge.id),
                    escrow,
                    processor_fees,
                    kept,
                    pledge.currency,
                    ledger.RELEASE_PROCESSOR_FEE,
                    pledge.id,
                    settlement_id,
                )
            )
    ledger.transfer_many(transfers)
    ids = [p.id for p in pledges]
    db.session.execute(
        update(Pledge)
        .where(one_of(Pledge.id, ids), Pledge.status == PS.HELD.value)
        .values(status=PS.RELEASED.value, ended_at=now, settle_after=None)
        .execution_options(synchronize_session=False)
    )
    transitions.record_many(
        "pledge",
        ids,
        PS.HELD.value,
        PS.RELEASED.value,
        note=f"Campaign succeeded: released by settlement {settlement_id}.",
    )
    if project.kind == ProjectKind.EQUITY.value:
        _register_shares(project, pledges, now)
    deliveries.open_deliveries(project, pledges, held_back)
    for pledge in pledges:  # what the notification reads; the UPDATE above already wrote it
        set_committed_value(pledge, "status", PS.RELEASED.value)
    notifications.campaign_succeeded(project, pledges=pledges)
    db.session.commit()
    log.info("settlement %s: released %d pledge(s) of project %s", settlement_id, len(pledges), project_id)
    after_commit.run_mail()  # this batch's mail goes now; the settlement goes on
    return len(pledges)


def _processor_fees_of(pledges):
    """{pledge id: what the processor kept of its charge} for a batch."""
    return dict(
        db.session.execute(
            select(LedgerTransfer.pledge_id, LedgerTransfer.amount).where(
                LedgerTransfer.code == ledger.PROCESSOR_FEE, one_of(LedgerTransfer.pledge_id, [p.id for p in pledges])
            )
        ).all()
    )


def _register_shares(project, pledges, now):
    offering = project.equity
    db.session.execute(
        insert(ShareHolding),
        [
            {
                "user_id": p.backer_id,
                "firm_id": project.firm_id,
                "project_id": project.id,
                "pledge_id": p.id,
                "shares": p.shares,
                "price_per_share": offering.price_per_share,
                "currency": p.currency,
                "security_type": offering.security_type,
                "acquired_at": now,
            }
            for p in pledges
        ],
    )
