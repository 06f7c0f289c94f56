"""Whether an account may move money now: pledge, invest, submit a project.

One place for every reason an account is held back, so the web, the API and the services
refuse for the same reasons with the same codes.
"""

from flask import current_app
from flask_babel import gettext as _

from ..errors import PermissionDenied


def require_may_transact(user):
    """Raise PermissionDenied (403) when `user` may not pledge, invest or submit right now."""
    if user.suspended_at is not None:
        raise PermissionDenied(
            _(
                "This account is suspended, so it cannot make new pledges. "
                "Please contact us if you think this is a mistake."
            ),
            code="account_suspended",
        )
    if user.email_verified_at is None and current_app.config.get("EMAIL_VERIFICATION_REQUIRED", True):
        raise PermissionDenied(
            _(
                "Please confirm your email address first: follow the link in the mail we sent "
                "to %(email)s, or ask for a new one.",
                email=user.email,
            ),
            code="email_unverified",
        )
