"""An admin suspends an account (no sign-in, no API, no new pledges) and lifts it again.

Each step leaves an audit row (`StateChange`, entity "user"): who, when, and the reason.
What the account already has stays as it is: its pledges are settled as usual.
"""

from flask_babel import gettext as _

from ..domain.clock import utcnow
from ..errors import Conflict, NotFound, PermissionDenied, ValidationError
from ..extensions import db
from ..models import StateChange, User
from . import use_case, user_sessions
from .account_deletion import ENTITY
from .reviews import require_admin

REASON_MAX = 2000


def get_user(user_id):
    user = db.session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound(_("There is no such account."))
    return user


@use_case
def suspend(admin, user, reason):
    require_admin(admin)
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why the account is suspended.")
        raise ValidationError(message, fields={"reason": message})
    if len(reason) > REASON_MAX:
        message = _("The reason is too long (%(num)d characters at most).", num=REASON_MAX)
        raise ValidationError(message, fields={"reason": message})
    if user.id == admin.id:
        raise PermissionDenied(_("You cannot suspend your own account."), code="own_account")
    if user.deleted_at is not None:
        raise NotFound(_("There is no such account."))
    if user.suspended_at is not None:
        raise Conflict(_("This account is suspended already."), code="already_suspended")
    user.suspended_at = utcnow()
    user.suspension_reason = reason
    # Signed out everywhere now, so that lifting the suspension later revives no old session.
    # Its API tokens stay, refused (403 account_suspended) while the suspension lasts.
    user_sessions.end_all(user, now=user.suspended_at)
    db.session.add(
        StateChange(
            entity=ENTITY, entity_id=user.id, from_state="active", to_state="suspended", actor_id=admin.id, note=reason
        )
    )
    db.session.flush()
    return user


@use_case
def lift(admin, user, note=""):
    require_admin(admin)
    note = (note or "").strip()[:REASON_MAX]
    if user.suspended_at is None:
        raise Conflict(_("This account is not suspended."), code="not_suspended")
    user.suspended_at = None
    user.suspension_reason = None
    db.session.add(
        StateChange(
            entity=ENTITY, entity_id=user.id, from_state="suspended", to_state="active", actor_id=admin.id, note=note
        )
    )
    db.session.flush()
    return user
