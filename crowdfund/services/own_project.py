"""No backing your own campaign.

A firm's own people pledging to its campaign could push it over its goal and so release
every other backer's escrow (shill pledging); the admin who approved it vouched for it and
must not back it either. Every pledge asks in step 1 (services/pledges.py `reserve`, the web
and the API alike), inside the statement that locks the backer, so asking costs no round
trip of its own; `refuse` then answers 403 `own_project`.
"""

from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, or_, select

from ..errors import PermissionDenied
from ..extensions import db
from ..models import FirmMember, Project, Review


def owns(user_id, project_id):
    """The SQL condition "`user_id` belongs to the firm of `project_id` or approved it": a
    column expression for a statement of the caller's (both arguments are SQL expressions)."""
    firm = select(Project.firm_id).where(Project.id == project_id).scalar_subquery()
    return or_(
        exists().where(FirmMember.firm_id == firm, FirmMember.user_id == user_id),
        exists().where(Review.project_id == project_id, Review.reviewer_id == user_id, Review.decision == "approve"),
    )


# Built once: the backing form asks it each time it is shown.
_IS_OWN = select(owns(bindparam("user"), bindparam("project")))


def is_own(user_id, project):
    """Whether `user_id` belongs to the project's firm or approved the project."""
    if user_id is None:
        return False
    return bool(db.session.scalar(_IS_OWN, {"project": project.id, "user": user_id}))


def refusal_message(project):
    if project.kind == "equity":
        return _("You cannot invest in this campaign: you belong to its firm or approved it.")
    return _("You cannot back this campaign: you belong to its firm or approved it.")


def refuse(project):
    raise PermissionDenied(refusal_message(project), code="own_project")
