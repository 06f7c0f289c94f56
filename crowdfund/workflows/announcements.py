"""Announcing founders' updates: each update's mail queued to its campaign's backers.

Run by the `announce_updates` job (crowdfund/jobs/updates.py), which a posted update starts
after its commit (`services/updates.post_update`). One transaction per update: its messages,
in batches, and `announced_at`; then delivery starts.
"""

import logging

from sqlalchemy import select

from .. import after_commit
from ..domain.clock import utcnow
from ..extensions import db
from ..models import Pledge, PledgeStatus as PS, ProjectUpdate
from ..services import notifications

log = logging.getLogger(__name__)

# Who is mailed an update: everyone whose money the campaign held (not a cancelled pledge,
# nor one that never went through).
AUDIENCE = (PS.HELD.value, PS.RELEASED.value, PS.REFUNDED.value)
ANNOUNCE_BATCH = 500  # messages rendered and inserted at a time


def announce_pending(*, batch_size=ANNOUNCE_BATCH):
    """Queue the mail of every update not announced yet, to its campaign's backers.

    Call it with nothing uncommitted. Each update is locked with SKIP LOCKED, so two workers
    never announce the same one. An update that fails (or a run that dies) is redone whole
    by the next run, so nobody gets an update twice or not at all, and one that keeps
    failing does not hold up the others. Returns how many updates it announced."""
    announced, after = 0, 0
    while True:
        update = db.session.scalar(
            select(ProjectUpdate)
            .where(ProjectUpdate.announced_at.is_(None), ProjectUpdate.id > after)
            .order_by(ProjectUpdate.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if update is None:
            db.session.commit()
            return announced
        after = update.id
        try:
            _mail_backers(update, batch_size)
            update.announced_at = utcnow()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("update %s: its mail could not be queued; the next run tries again", after)
            continue
        after_commit.run_mail()
        announced += 1


def _mail_backers(update, batch_size):
    backer_ids = db.session.scalars(
        select(Pledge.backer_id)
        .where(Pledge.project_id == update.project_id, Pledge.status.in_(AUDIENCE))
        .distinct()
        .order_by(Pledge.backer_id)
    ).all()
    for start in range(0, len(backer_ids), batch_size):
        notifications.project_update(update, backer_ids[start : start + batch_size])
