"""Admin review of submitted projects: the queue, the checklist, the decision."""

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select

from ..errors import PermissionDenied, ValidationError
from ..extensions import db
from ..models import Project, ProjectKind, ProjectStatus as S, Review, StateChange
from . import notifications, use_case
from .projects.access import lock
from .transitions import can_move, transition

CHECKLIST = {
    "identity_verified": _l("The founders' identity is verified"),
    "registration_valid": _l("The firm's registration is valid"),
    "financials_present": _l("Financial statements and business plan are present and plausible"),
    "rewards_feasible": _l("The rewards and delivery dates are feasible"),
    "risks_disclosed": _l("The risks are honestly disclosed"),
}
RISK_GRADES = ("A", "B", "C", "D", "E")
DECISIONS = {"approve": S.APPROVED, "request_changes": S.CHANGES_REQUESTED, "reject": S.REJECTED}
DECISION_WORDS = {"approve": "Approved", "request_changes": "Changes requested", "reject": "Rejected"}


def applicable_checks(project):
    """The checklist items that apply: financials only to equity, rewards only to reward projects."""
    skip = "financials_present" if project.kind == ProjectKind.REWARD.value else "rewards_feasible"
    return [key for key in CHECKLIST if key != skip]


def require_admin(user):
    if not getattr(user, "is_admin", False):
        raise PermissionDenied(_("Only administrators can do that."))


def _submitted_at():
    """When each project last entered review (from the audit trail)."""
    return (
        select(StateChange.entity_id.label("project_id"), func.max(StateChange.created_at).label("at"))
        .where(StateChange.entity == "project", StateChange.to_state == S.IN_REVIEW.value)
        .group_by(StateChange.entity_id)
        .subquery()
    )


def review_queue():
    """Projects waiting for review with the time each was submitted, oldest submission first."""
    submitted = _submitted_at()
    rows = db.session.execute(
        select(Project, submitted.c.at)
        .outerjoin(submitted, submitted.c.project_id == Project.id)
        .where(Project.status == S.IN_REVIEW.value)
        .order_by(submitted.c.at.asc(), Project.id.asc())
    ).all()
    return [(project, at) for project, at in rows]


def submitted_at(project):
    return db.session.scalar(
        select(func.max(StateChange.created_at)).where(
            StateChange.entity == "project",
            StateChange.entity_id == project.id,
            StateChange.to_state == S.IN_REVIEW.value,
        )
    )


def live_campaigns():
    return db.session.scalars(
        select(Project).where(Project.status == S.LIVE.value).order_by(Project.deadline.asc(), Project.id.asc())
    ).all()


@use_case
def review_project(reviewer, project, decision, *, checklist=None, risk_grade=None, note=""):
    """Record an admin's decision on a project in review, and move the project on.

    approve: every applicable checklist item ticked and a risk grade A-E (shown to backers).
    request_changes / reject: a note for the founder is required.
    """
    require_admin(reviewer)
    if project.firm.has_member(reviewer):
        raise PermissionDenied(_("You cannot review a project of a firm you belong to."))
    if decision not in DECISIONS:
        raise ValidationError(
            _("Choose approve, request changes or reject."),
            fields={"decision": _("Choose approve, request changes or reject.")},
        )
    target = DECISIONS[decision]
    project = lock(project)
    if not can_move(project, target):
        transition(project, target)  # raises IllegalTransition with the usual message
    note = (note or "").strip()
    checklist = {key: bool((checklist or {}).get(key)) for key in applicable_checks(project)}
    risk_grade = (risk_grade or "").strip().upper() or None
    errors = {}
    if risk_grade is not None and risk_grade not in RISK_GRADES:
        errors["risk_grade"] = _("The risk grade is a letter from A to E.")
    if decision == "approve":
        unticked = [key for key, ticked in checklist.items() if not ticked]
        for key in unticked:
            errors[key] = _("Check this before approving: %(item)s.", item=CHECKLIST[key].lower())
        if risk_grade is None:
            errors["risk_grade"] = _("Give the project a risk grade (A to E) before approving.")
        if unticked:
            errors.setdefault(
                "checklist",
                _(
                    "Approval needs every checklist item: %(items)s.",
                    items=_(", ").join(CHECKLIST[key].lower() for key in unticked),
                ),
            )
    elif not note:
        errors["note"] = _("Write a note for the founder explaining the decision.")
    if errors:
        headline = errors.get("checklist") or next(iter(errors.values()))
        raise ValidationError(headline, fields=errors)
    review = Review(
        project=project,
        reviewer_id=reviewer.id,
        decision=decision,
        note=note,
        risk_grade=risk_grade,
        checklist=checklist,
    )
    db.session.add(review)
    if decision == "approve":
        project.risk_grade = risk_grade
    transition(project, target, actor=reviewer, note=note or DECISION_WORDS[decision])
    db.session.flush()
    notifications.review_decision(project, review)
    return review
