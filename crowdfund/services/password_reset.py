"""Password reset by email.

`request_reset(email)` mails the account at that address, if there is one, a link to
/account/reset/<token>; whoever asks hears the same either way (the view says so). The
link works for PASSWORD_RESET_TTL seconds and once: its signed payload carries a digest of
the password hash (and the address), so setting a new password, by this link or any other
way, makes every earlier link worthless. A reset signs the account out of every browser
and revokes every API token: whoever knew the old password is out.
"""

from flask import current_app, url_for

from ..domain.clock import utcnow
from ..errors import ValidationError
from ..extensions import db
from . import accounts, api_tokens, notifications, signed_links, use_case, user_sessions

PURPOSE = "password-reset"


def _fingerprint(user):
    return signed_links.fingerprint(user.password_hash, user.email)


def make_token(user):
    return signed_links.make(PURPOSE, user, _fingerprint(user))


@use_case
def request_reset(email, *, page_locale=None):
    """Queue a reset link for the account at `email` when there is one that may sign in.
    Returns nothing, whether or not a mail was queued. ValidationError only for text that is
    not an email address at all. `page_locale`: the language of the page that asked, for an
    account that has not chosen one."""
    email = accounts.normalise_email(email)
    user = accounts.find_by_email(email)
    if user is None or not user.is_active:
        return
    token = make_token(user)
    link = url_for("auth.reset_password", token=token, _external=True)
    notifications.password_reset(
        user,
        link,
        ttl_minutes=max(current_app.config["PASSWORD_RESET_TTL"] // 60, 1),
        dedupe_key=f"password_reset:{user.id}:{signed_links.token_digest(token)}",
        in_locale=None if user.locale else page_locale,
    )


def user_for_token(token, *, lock=False):
    """The account a live reset link belongs to; LinkRefused when expired, used or not ours."""
    return signed_links.read(
        PURPOSE, token, max_age=current_app.config["PASSWORD_RESET_TTL"], fingerprint_of=_fingerprint, lock=lock
    )


@use_case
def reset_password(token, new_password, *, now=None):
    """Set a new password through a reset link, end every session and revoke every API token.
    Returns the user. The link has then been used: it works no more."""
    user = user_for_token(token, lock=True)
    problem = accounts.password_problem(new_password, user.email)
    if problem:
        raise ValidationError(problem, fields={"password": problem})
    now = now or utcnow()
    user.password_hash = accounts.hash_password(new_password)
    if user.email_verified_at is None:
        user.email_verified_at = now  # the link reached the owner through this address
    user_sessions.end_all(user, now=now)
    api_tokens.revoke_all(user, now=now)
    db.session.flush()
    return user
