"""Stretch goals: amounts above a reward campaign's goal, each with what it unlocks.

Founders add them while the campaign is a draft, approved or live (added or removed once
approved, the change is logged like any other). A goal is *reached* by the pledge whose
hold (or change to a larger pledge) first takes the campaign's total to its amount:
`reached(...)`, called in that transaction (through services/reward_milestones.py),
stamps `reached_at` with a guarded UPDATE (so it happens once, whichever of two concurrent
pledges gets there) and writes one mail per backer to the outbox, each with
its own dedupe key: the mail leaves after the commit, and a replay queues nothing twice.
The mail is of the kind `stretch_goals`, which a backer may turn off alone.
"""

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update

from ..extensions import db
from ..models import Pledge, PledgeStatus, Project, ProjectKind, StretchGoal
from . import use_case
from .mail_outbox import _queue_many, _users
from .projects.access import EDITABLE, STORY_EDITABLE, require_member, require_status
from .projects.editing import amount, log_edit, raise_errors, text
from .transitions import PROJECT_STATUS_WORDS

MOST_PER_CAMPAIGN = 20
KIND = "stretch_goals"  # the mail's kind (services/mail_choices.py KINDS)

# The lowest amount of the campaign's stretch goals not reached yet (None: none left). Put
# in the RETURNING of an UPDATE of `projects` that moves the total, it is read with the new
# total, so `reached` asks nothing more of the database while no goal is in reach: what
# every pledge above the goal would otherwise pay, one statement each.
LOWEST_UNREACHED = (
    select(func.min(StretchGoal.amount))
    .where(StretchGoal.project_id == Project.id, StretchGoal.reached_at.is_(None))
    .correlate(Project)
    .scalar_subquery()
    .label("lowest_unreached_stretch")
)
_UNKNOWN = object()

# The goals a new total reaches, stamped once (RETURNING: only this transaction's winners).
_STAMP_REACHED = (
    update(StretchGoal)
    .where(
        StretchGoal.project_id == bindparam("project"),
        StretchGoal.reached_at.is_(None),
        StretchGoal.amount <= bindparam("total"),
    )
    .values(reached_at=bindparam("now"))
    .returning(StretchGoal.id, StretchGoal.amount, StretchGoal.title, StretchGoal.description)
)


def _check_project(project):
    if project.kind != ProjectKind.REWARD.value:
        raise_errors({"amount": _("Stretch goals are for reward campaigns.")})
    require_status(
        project,
        EDITABLE | STORY_EDITABLE,
        _(
            "This project is %(status)s, so its stretch goals cannot change.",
            status=PROJECT_STATUS_WORDS.get(project.status, project.status),
        ),
    )


@use_case
def add_stretch_goal(user, project, data):
    """A new stretch goal: `amount` (minor units, above the goal), `title`, `description`."""
    require_member(user, project)
    _check_project(project)
    errors = {}
    value = amount(data, "amount", project.currency, errors, required_message=_("Enter the amount that unlocks it."))
    title = text(
        data, "title", errors, label=_("The title"), max_length=120, required_message=_("Say what it unlocks.")
    )
    description = text(data, "description", errors, label=_("The description"), max_length=5000)
    if value is not None and "amount" not in errors:
        if value <= project.goal:
            errors["amount"] = _("A stretch goal must be above the campaign's goal.")
        elif any(goal.amount == value for goal in project.stretch_goals):
            errors["amount"] = _("There is already a stretch goal at that amount.")
        elif len(project.stretch_goals) >= MOST_PER_CAMPAIGN:
            errors["amount"] = _("A campaign has at most %(num)d stretch goals.", num=MOST_PER_CAMPAIGN)
    raise_errors(errors)
    goal = StretchGoal(project=project, amount=value, title=title, description=description)
    db.session.add(goal)
    db.session.flush()
    if project.status in STORY_EDITABLE:
        log_edit(user, project, f"stretch goal {goal.id} added", "", f"{title} ({value} {project.currency})")
    if project.pledged_amount >= value:  # already passed: it counts as reached, nobody is mailed
        goal.reached_at = goal.created_at
    db.session.flush()
    return goal


@use_case
def delete_stretch_goal(user, goal):
    project = goal.project
    require_member(user, project)
    _check_project(project)
    if goal.reached_at is not None:
        raise_errors({"amount": _("This stretch goal was reached, so it stays.")})
    if project.status in STORY_EDITABLE:
        log_edit(user, project, f"stretch goal {goal.id} removed", goal.title, "")
    project.stretch_goals.remove(goal)
    db.session.delete(goal)
    db.session.flush()


def get_stretch_goal(project, goal_id):
    return next((goal for goal in project.stretch_goals if goal.id == goal_id), None)


def reached(project_id, *, before, after, goal, now, lowest_unreached=_UNKNOWN):
    """A pledge took the campaign's held total from `before` to `after`: stamp the stretch
    goals this reached and mail the backers. Flushes only. Stretch goals lie above the goal,
    so below it nothing is asked of the database; nor when `lowest_unreached` (read with the
    total, `LOWEST_UNREACHED`) is out of reach. It may be stale (read in the UPDATE's
    snapshot), but only ever too low, as a goal stamped meanwhile: the guarded stamp then
    finds nothing."""
    if after <= goal or after <= before:
        return []
    if lowest_unreached is not _UNKNOWN and (lowest_unreached is None or lowest_unreached > after):
        return []
    won = db.session.execute(_STAMP_REACHED, {"project": project_id, "total": after, "now": now}).all()
    if not won:
        return []
    project = db.session.get(Project, project_id)
    backer_ids = db.session.scalars(
        select(Pledge.backer_id)
        .where(Pledge.project_id == project_id, Pledge.status == PledgeStatus.HELD.value)
        .distinct()
    ).all()
    users = _users(backer_ids)
    queued = []
    for stretch in won:

        def subject(stretch=stretch):
            return _("%(title)s unlocked a stretch goal: %(goal)s", title=project.title, goal=stretch.title)

        queued += _queue_many(
            [
                (
                    f"stretch_goal:{stretch.id}:{user_id}",
                    user,
                    "mail/stretch_goal_reached.txt",
                    subject,
                    {"project": project, "stretch": stretch},
                )
                for user_id, user in users.items()
            ],
            kind=KIND,  # backers may turn these off alone (services/mail_choices.py)
        )
    return queued
