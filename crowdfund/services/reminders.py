""" "Remind me" on a campaign page, and the mail it brings.

A signed-in person turns the reminder on or off for one live campaign (`set_reminder`); the
`send_reminders` sweep (crowdfund/workflows/reminder_runs.py, every few minutes) mails each
one once, REMINDER_LEAD_SECONDS (48 hours) before the deadline; a reminder asked for later
than that goes on the next run. Turning "campaign_reminders" off (services/mail_choices.py)
stops the mail, not the button.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from ..domain.clock import utcnow
from ..errors import ValidationError
from ..extensions import db
from ..models import CampaignReminder, Project, ProjectStatus, User
from . import use_case
from .mail_choices import external_url
from .mail_outbox import _queue_many, _users

KIND = "campaign_reminders"
BATCH = 200  # reminders mailed per transaction


def can_remind(project, now=None):
    return (
        project.status == ProjectStatus.LIVE.value
        and project.deadline is not None
        and project.deadline > (now or utcnow())
    )


def is_set(user, project):
    """Has `user` asked to be reminded of `project`? (Anonymous: False, without a query.)"""
    if not getattr(user, "is_authenticated", False):
        return False
    found = db.session.scalar(
        select(CampaignReminder.id).where(
            CampaignReminder.user_id == user.id, CampaignReminder.project_id == project.id
        )
    )
    return found is not None


@use_case
def set_reminder(user, project, on):
    """Turn `user`'s reminder of `project` on or off; doing it twice changes nothing. Returns `on`."""
    if on:
        if not can_remind(project):
            raise ValidationError(_("This campaign has ended: there is nothing to remind you of."), code="wrong_state")
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        # ON CONFLICT DO NOTHING: a double click (or two tabs at once) leaves one reminder.
        db.session.execute(
            dialect.insert(CampaignReminder)
            .values(user_id=user.id, project_id=project.id, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["user_id", "project_id"])
        )
    else:
        # One already mailed stays, so turning it off and on again never mails twice.
        db.session.execute(
            delete(CampaignReminder).where(
                CampaignReminder.user_id == user.id,
                CampaignReminder.project_id == project.id,
                CampaignReminder.sent_at.is_(None),
            )
        )
    db.session.flush()
    return bool(on)


def due_batch(now):
    """Up to BATCH reminders whose campaign ends within REMINDER_LEAD_SECONDS, locked (SKIP
    LOCKED: two runs at once share the work and never take the same one)."""
    lead = timedelta(seconds=int(current_app.config.get("REMINDER_LEAD_SECONDS") or 48 * 3600))
    return db.session.scalars(
        select(CampaignReminder)
        .join(Project, Project.id == CampaignReminder.project_id)
        .where(
            CampaignReminder.sent_at.is_(None),
            Project.status == ProjectStatus.LIVE.value,
            Project.deadline > now,
            Project.deadline <= now + lead,
        )
        .order_by(CampaignReminder.id)
        .limit(BATCH)
        .with_for_update(of=CampaignReminder, skip_locked=True)
    ).all()


def mail(reminders, now):
    """Queue the mail of `reminders` (each once: its dedupe key names the person and the
    campaign) and mark them sent. Only flushes."""
    users = _users(r.user_id for r in reminders)
    active = set(
        db.session.scalars(
            select(User.id).where(User.id.in_(list(users)), User.deleted_at.is_(None), User.suspended_at.is_(None))
        )
    )
    projects = {
        p.id: p for p in db.session.scalars(select(Project).where(Project.id.in_({r.project_id for r in reminders})))
    }
    links = {pid: external_url("projects.show", slug=p.slug) for pid, p in projects.items()}
    subjects = {}
    items = []
    for reminder in reminders:
        reminder.sent_at = now
        if reminder.user_id not in active:
            continue
        project = projects[reminder.project_id]
        subject = subjects.setdefault(project.id, lambda project=project: _("%(title)s ends soon", title=project.title))
        items.append(
            (
                f"campaign_reminder:{project.id}:{reminder.user_id}",
                users[reminder.user_id],
                "mail/campaign_reminder.txt",
                subject,
                {"project": project, "link": links[project.id]},
            )
        )
    queued = _queue_many(items, kind=KIND)
    db.session.flush()
    return queued
