"""No backing your own campaign.

A firm's own people pledging to its campaign could push it over its goal and so release
every other backer's escrow (shill pledging); the admin who approved it vouched for it and
must not back it either. `require_not_own` is step 1 of every pledge (services/pledges.py
`reserve`, the web and the API alike): 403 `own_project`.
"""
from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, or_, select

from ..errors import PermissionDenied
from ..extensions import db
from ..models import FirmMember, Review

# Built once: it runs on every pledge.
_IS_OWN = select(or_(
    exists().where(FirmMember.firm_id == bindparam("firm"), FirmMember.user_id == bindparam("user")),
    exists().where(Review.project_id == bindparam("project"), Review.reviewer_id == bindparam("user"),
                   Review.decision == "approve")))


def is_own(user_id, project):
    """Whether `user_id` belongs to the project's firm or approved the project."""
    if user_id is None:
        return False
    return bool(db.session.scalar(_IS_OWN, {"firm": project.firm_id, "project": project.id, "user": user_id}))


def refusal_message(project):
    if project.kind == "equity":
        return _("You cannot invest in this campaign: you belong to its firm or approved it.")
    return _("You cannot back this campaign: you belong to its firm or approved it.")


def require_not_own(user_id, project):
    if is_own(user_id, project):
        raise PermissionDenied(refusal_message(project), code="own_project")
