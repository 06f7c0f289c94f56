"""Where a campaign's end meets settlement: the outcome words, and the `Settlement` row.

`open_settlement(project)` is called inside the closing transaction, after the project has
left `live` and `closed_at` is set, for every way a live campaign ends: `successful` /
`failed` (at the deadline, `campaigns.close_due`), `cancelled` (the founder) and
`suspended` (an admin). It only writes the `Settlement` row and asks for the settlement to
start once that transaction commits (`after_commit.start_settlement`); the settlement
itself is a workflow (crowdfund/workflows/settlement.py), since no payment call may happen
while a transaction is open. The names services share with it live here, so no service
imports a workflow.
"""

from sqlalchemy import select

from .. import after_commit
from ..errors import Conflict
from ..extensions import db
from ..models import Settlement
from ..models.project import ProjectStatus as S

RELEASE, REFUND = "release", "refund"
OUTCOMES = {S.SUCCESSFUL.value: RELEASE, S.FAILED.value: REFUND, S.CANCELLED.value: REFUND, S.SUSPENDED.value: REFUND}


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
    after_commit.start_settlement(project.id)
    return settlement
