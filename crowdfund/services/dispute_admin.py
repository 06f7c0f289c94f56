"""Disputes for the admin page (crowdfund/web/admin/disputes.py): every dispute, and what
firms owe or are owed after one."""

from sqlalchemy import and_, case, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Dispute, Pledge, Project, Settlement
from .dispute_firm_account import project_payable


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
