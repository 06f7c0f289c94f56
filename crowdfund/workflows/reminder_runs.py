"""The runs that mail what people asked to hear about: reminders before a deadline
(services/reminders.py) and a campaign reaching its goal (services/goal_notices.py).

Each commits in short transactions and is safe to run twice, or twice at once: rows are
claimed with SKIP LOCKED (PostgreSQL) and marked in the transaction that queues their mail,
and every message has a dedupe key (one person, one campaign), so nobody is mailed twice.
Started by the `send_reminders` and `announce_goals` jobs (crowdfund/jobs/reminders.py), the
in-process scheduler, Celery beat and `flask campaigns send-reminders`.
"""

import logging

from .. import after_commit
from ..domain.clock import utcnow
from ..extensions import db
from ..services import goal_notices, reminders

log = logging.getLogger(__name__)


def send_due_reminders(now=None):
    """Mail every reminder now due; returns how many reminders were handled."""
    handled = 0
    while True:
        moment = now or utcnow()
        batch = reminders.due_batch(moment)
        if not batch:
            db.session.commit()
            return handled
        reminders.mail(batch, moment)
        db.session.commit()
        after_commit.run_mail()
        handled += len(batch)


def announce_goals():
    """Mail the backers of every campaign whose goal was reached and not announced yet; one
    transaction per campaign (one that fails is retried by the next run, the others go on)."""
    announced, after = 0, 0
    while True:
        notice = goal_notices.next_unannounced(after)
        if notice is None:
            db.session.commit()
            return announced
        after = notice.project_id
        try:
            goal_notices.mail_backers(notice)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("goal of project %s: its mail could not be queued; the next run tries again", after)
            continue
        after_commit.run_mail()
        announced += 1
