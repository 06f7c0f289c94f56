"""A campaign's life after approval: launch, cancel, suspend, and closing at the deadline."""

from datetime import timedelta, timezone

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import func, select

from ..domain.clock import utcnow
from ..domain.funding_models import releases_at_deadline
from ..domain.money import format_money
from ..errors import ValidationError
from ..extensions import db
from ..models import Project, ProjectStatus as S
from . import material_changes, offerings, payout_accounts, settlement_hooks, use_case
from .projects.access import lock, require_member
from .reviews import require_admin
from .transitions import can_move, transition


def _duration_words(seconds):
    if seconds % 86400 == 0:
        return ngettext("%(num)d day", "%(num)d days", seconds // 86400)
    if seconds % 3600 == 0:
        return ngettext("%(num)d hour", "%(num)d hours", seconds // 3600)
    return ngettext("%(num)d minute", "%(num)d minutes", max(1, seconds // 60))


def launch_window(now=None, kind="reward"):
    """The earliest and latest deadline a campaign of `kind` launched `now` may choose (an equity
    offering's shortest run is the rulebook's: services/offerings.py)."""
    now = now or utcnow()
    return (
        now + timedelta(seconds=offerings.min_duration(kind)),
        now + timedelta(seconds=current_app.config["CAMPAIGN_MAX_DURATION"]),
    )


@use_case
def launch(user, project, deadline, *, now=None):
    """The founder opens an approved project to backers, until `deadline` (an aware datetime)."""
    require_member(user, project)
    project = lock(project)
    if not can_move(project, S.LIVE):
        transition(project, S.LIVE)  # raises IllegalTransition with the usual message
    payout_accounts.require_ready(project.firm_id)  # 409 payout_account_not_ready: nowhere to pay out
    if deadline is None:
        raise ValidationError(_("Choose the deadline."), fields={"deadline": _("Choose the deadline.")})
    if deadline.tzinfo is None:
        raise TypeError("deadline must be an aware datetime")
    now = now or utcnow()
    earliest, latest = launch_window(now, project.kind)
    if deadline < earliest:
        message = _(
            "The deadline is too soon: a campaign runs at least %(duration)s.",
            duration=_duration_words(offerings.min_duration(project.kind)),
        )
        raise ValidationError(message, fields={"deadline": message})
    if deadline > latest:
        message = _(
            "The deadline is too far away: a campaign runs at most %(duration)s.",
            duration=_duration_words(current_app.config["CAMPAIGN_MAX_DURATION"]),
        )
        raise ValidationError(message, fields={"deadline": message})
    offerings.require_within_issuer_cap(project, now)  # 409 issuer_cap_exceeded
    project.deadline = deadline.astimezone(timezone.utc)
    project.launched_at = now
    transition(project, S.LIVE, actor=user, note="Launched.")
    db.session.flush()
    return project


NOTE_MISSING = {
    "cancelled": _l("Write a note saying why the campaign is cancelled."),
    "suspended": _l("Write a note saying why the campaign is suspended."),
}


def _require_note(note, what):
    note = (note or "").strip()
    if not note:
        message = str(NOTE_MISSING[what])
        raise ValidationError(message, fields={"note": message})
    return note


def _end(project, status, *, actor, note, now=None):
    """Move a live (or approved) project to a final state; a live one's money goes to settlement."""
    was_live = project.status == S.LIVE.value
    transition(project, status, actor=actor, note=note)
    if was_live:
        project.closed_at = now or utcnow()
        db.session.flush()
        settlement_hooks.open_settlement(project)


def _stop(project, status, *, actor, note):
    """Cancel or suspend `project`. An illegal move is refused before a missing note is."""
    project = lock(project)
    if not can_move(project, status):
        transition(project, status)  # raises IllegalTransition with the usual message
    _end(project, status, actor=actor, note=_require_note(note, status.value))
    db.session.flush()
    return project


@use_case
def cancel(user, project, note):
    """The founder cancels an approved or live campaign; held pledges are then returned."""
    require_member(user, project)
    return _stop(project, S.CANCELLED, actor=user, note=note)


@use_case
def suspend(admin, project, note):
    """An admin stops a live campaign; held pledges are then returned."""
    require_admin(admin)
    return _stop(project, S.SUSPENDED, actor=admin, note=note)


def close_due(now=None):
    """Close every live campaign whose deadline has passed: `successful` when its held pledges
    (`pledged_amount`) reach the goal, or for a flexible campaign that raised anything
    (domain/funding_models.py), otherwise `failed`. Returns how many it closed.

    Safe to run any number of times, and in several processes at once: each project is
    re-read under a row lock (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so a second runner
    skips what the first is closing instead of waiting) and re-checked before it moves, so
    each closes exactly once. Pledging locks the same row, so the total read here is final.
    Flushes only: the caller (CLI command, scheduler, Celery task) commits.
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Project.id)
        .where(Project.status == S.LIVE.value, Project.deadline <= now)
        .order_by(Project.deadline, Project.id)
    ).all()
    postgres = db.session.get_bind().dialect.name == "postgresql"
    closed = 0
    for project_id in due:
        with db.session.begin_nested():
            query = (
                select(Project)
                .where(Project.id == project_id, Project.status == S.LIVE.value, Project.deadline <= now)
                .execution_options(populate_existing=True)
            )
            if postgres:
                query = query.with_for_update(skip_locked=True)
            project = db.session.scalar(query)
            if project is None:  # closed by someone else meanwhile, or being closed right now
                continue
            if material_changes.hold_back_close(project, now):  # investors still reconfirming
                continue
            raised = format_money(project.pledged_amount, project.currency)
            goal = format_money(project.goal, project.currency)
            if project.pledged_amount >= project.goal:
                outcome, note = S.SUCCESSFUL, f"Deadline reached: {raised} raised, goal {goal} met."
            elif releases_at_deadline(project.funding_model, project.pledged_amount, project.goal):
                outcome = S.SUCCESSFUL
                note = f"Deadline reached: {raised} raised, goal {goal} not met; flexible funding: the firm keeps it."
            else:
                outcome, note = S.FAILED, f"Deadline reached: {raised} raised, goal {goal} not met."
            _end(project, outcome, actor=None, note=note, now=now)
            closed += 1
    return closed


def next_deadline():
    """The earliest deadline among live campaigns, or None."""
    return db.session.scalar(select(func.min(Project.deadline)).where(Project.status == S.LIVE.value))
