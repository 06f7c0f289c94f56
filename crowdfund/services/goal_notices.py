"""The mail to a campaign's backers when its held pledges reach the goal.

The pledge whose hold crosses the goal writes a `GoalNotice` (once per campaign, however
often the total later dips and crosses again) and asks for the `announce_goals` sweep after
its commit; the sweep (crowdfund/workflows/reminder_runs.py) mails every backer with a held
pledge, once each. Reward campaigns only: an equity offering's investors are told of each
progress mark by its rulebook (services/investor_notices.py), 100% among them.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from .. import after_commit
from ..database import insert_new_returning
from ..domain.clock import utcnow
from ..extensions import db
from ..models import GoalNotice, Pledge, PledgeStatus, Project, ProjectKind
from .mail_choices import external_url
from .mail_outbox import _queue_many, _users

KIND = "goal_reached"
SWEEP = "announce_goals"


def note_if_crossed(project_id, *, kind, before, after, goal):
    """Held pledges went from `before` to `after`: note it if that crossed `goal`. Only flushes."""
    if kind != ProjectKind.REWARD.value or not (before < goal <= after):
        return False
    written = db.session.execute(
        insert_new_returning(GoalNotice, "project_id", GoalNotice.project_id),
        [{"project_id": project_id, "reached_at": utcnow()}],
    ).all()
    if written:
        after_commit.start_sweep(SWEEP)
    return bool(written)


def next_unannounced(after_id):
    """The next notice not mailed yet, locked (SKIP LOCKED: two runs never take the same one)."""
    return db.session.scalar(
        select(GoalNotice)
        .where(GoalNotice.announced_at.is_(None), GoalNotice.project_id > after_id)
        .order_by(GoalNotice.project_id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def mail_backers(notice, batch_size=500):
    """Queue the mail of `notice` to each backer with a held pledge, and mark it announced."""
    project = db.session.get(Project, notice.project_id)
    backer_ids = db.session.scalars(
        select(Pledge.backer_id)
        .where(Pledge.project_id == project.id, Pledge.status == PledgeStatus.HELD.value)
        .distinct()
        .order_by(Pledge.backer_id)
    ).all()
    link = external_url("projects.show", slug=project.slug)

    def subject():
        return _("%(title)s has reached its funding goal", title=project.title)

    for start in range(0, len(backer_ids), batch_size):
        users = _users(backer_ids[start : start + batch_size])
        _queue_many(
            [
                (
                    f"goal_reached:{project.id}:{user_id}",
                    user,
                    "mail/goal_reached.txt",
                    subject,
                    {"project": project, "link": link},
                )
                for user_id, user in users.items()
                if user.email
            ],
            kind=KIND,
        )
    notice.announced_at = utcnow()
    db.session.flush()
