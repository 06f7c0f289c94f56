"""Mail to an offering's investors about the offering itself (not one commitment).

Written to the outbox like every other notification (services/notifications.py): in the
caller's transaction, once per dedupe key.

    progress(project_id, before=, after=, goal=) -> every investor with a held commitment, when
                                                  held commitments cross a PROGRESS_NOTICE_PERCENTS
                                                  mark (once per mark, however often it is crossed)
    closes_early(project, old_deadline)         -> every investor: the offering's new deadline and
                                                  until when they may cancel
"""

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..domain import rulebooks
from ..extensions import db
from ..models import Pledge, Project
from ..models.pledge import PledgeStatus as PS
from .mail_outbox import _queue_many, _users
from .receipts import cancel_deadline


def _investor_ids(project_id):
    return db.session.scalars(
        select(Pledge.backer_id).where(Pledge.project_id == project_id, Pledge.status == PS.HELD.value).distinct()
    ).all()


def crossed(before, after, goal, percents):
    """The marks (percent of `goal`) that `after` reaches and `before` did not."""
    return [p for p in percents if before * 100 < goal * p <= after * 100]


def progress(project_id, *, before, after, goal):
    """Held commitments moved from `before` to `after`: tell investors of each mark crossed."""
    marks = crossed(before, after, goal, rulebooks.from_config(current_app.config).progress_notices)
    if not marks:
        return []
    project = db.session.get(Project, project_id)
    users = _users(_investor_ids(project_id))
    queued = []
    for mark in marks:

        def subject(mark=mark):
            return _("%(title)s has reached %(percent)d%% of its target", title=project.title, percent=mark)

        queued += _queue_many(
            [
                (
                    f"offering_progress:{project_id}:{mark}:{user_id}",
                    user,
                    "mail/offering_progress.txt",
                    subject,
                    {"project": project, "percent": mark},
                )
                for user_id, user in users.items()
            ]
        )
    return queued


def closes_early(project, old_deadline):
    users = _users(_investor_ids(project.id))

    def subject():
        return _("%(title)s will close early", title=project.title)

    key = f"offering_closes_early:{project.id}:{project.deadline.isoformat()}"
    return _queue_many(
        [
            (
                f"{key}:{user_id}",
                user,
                "mail/offering_closes_early.txt",
                subject,
                {"project": project, "old_deadline": old_deadline, "cancel_until": cancel_deadline(project)},
            )
            for user_id, user in users.items()
        ]
    )
