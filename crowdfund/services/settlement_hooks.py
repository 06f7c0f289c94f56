"""Where a campaign's end meets settlement.

`campaign_closed(project)` is called inside the closing transaction, after the project
has left `live` and `closed_at` is set, for every way a live campaign ends:
`successful` / `failed` (at the deadline, `campaigns.close_due`), `cancelled` (the
founder) and `suspended` (an admin). It only writes the `Settlement` row; the settlement
itself is a workflow (crowdfund/workflows/settlement.py) that starts after the commit
(`jobs.settlement.kick_settlements`), since no payment call may happen while a
transaction is open. The names services share with it live here, so no service imports
a workflow.
"""
from sqlalchemy import select

from ..errors import Conflict
from ..extensions import db
from ..models import Settlement
from ..models.project import ProjectStatus as S

RELEASE, REFUND = "release", "refund"
OUTCOMES = {S.SUCCESSFUL.value: RELEASE, S.FAILED.value: REFUND, S.CANCELLED.value: REFUND,
            S.SUSPENDED.value: REFUND}
# Settlements a `kick_settlements()` after the next commit should start (see jobs/settlement.py).
PENDING_KEY = "crowdfund.settlements_to_start"


def campaign_closed(project):
    return open_settlement(project)


def open_settlement(project):
    """Record that `project` (just closed) must be settled. Flushes only; idempotent."""
    outcome = OUTCOMES.get(project.status)
    if outcome is None:
        raise Conflict(f"A {project.status} project is not settled.")
    settlement = db.session.scalar(select(Settlement).where(Settlement.project_id == project.id))
    if settlement is None:
        settlement = Settlement(project_id=project.id, outcome=outcome, currency=project.currency)
        db.session.add(settlement)
        db.session.flush()
    start_after_commit(project.id)
    return settlement


def start_after_commit(project_id):
    """Have the settlement of `project_id` (re)started once the caller's transaction commits."""
    db.session.info.setdefault(PENDING_KEY, set()).add(project_id)
