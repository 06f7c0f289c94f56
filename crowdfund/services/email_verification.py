"""Confirming that an account's email address is its owner's.

At registration, and after an email change, `request_verification(user)` mails a link to
/account/verify/<token>. Following it (`verify`) sets `users.email_verified_at`. Until
then the account may browse, sign in and edit drafts, but not pledge, invest or submit a
project (`account_standing.require_may_transact`, when EMAIL_VERIFICATION_REQUIRED). The
link names the address it was sent to: after another change of address it works no more.
"""

from flask import current_app, url_for

from ..domain.clock import utcnow
from ..extensions import db
from . import notifications, signed_links, use_case

PURPOSE = "email-verification"


def _fingerprint(user):
    return signed_links.fingerprint(user.email)


def is_verified(user):
    return user.email_verified_at is not None


def required():
    return bool(current_app.config.get("EMAIL_VERIFICATION_REQUIRED", True))


def request_verification(user, *, page_locale=None):
    """Queue the mail with the link that confirms `user`'s current address (flush only, in the
    caller's transaction). Registration and an email change call it; so does "send the link
    again", which the web rate-limits. `page_locale`: the language of the page that asked, for
    an account that has not chosen one."""
    db.session.flush()  # a new account needs its id in the link
    token = signed_links.make(PURPOSE, user, _fingerprint(user))
    link = url_for("auth.verify_email", token=token, _external=True)
    return notifications.verify_email(
        user,
        link,
        dedupe_key=f"verify_email:{user.id}:{signed_links.token_digest(token)}",
        in_locale=None if user.locale else page_locale,
    )


@use_case
def verify(token, *, now=None):
    """Mark the address the link was sent to as confirmed and return the user; following the
    link again changes nothing. LinkRefused when it expired (EMAIL_VERIFICATION_TTL), is not
    ours, or was sent to an address the account no longer has."""
    user = signed_links.read(
        PURPOSE, token, max_age=current_app.config["EMAIL_VERIFICATION_TTL"], fingerprint_of=_fingerprint
    )
    if user.email_verified_at is None:
        user.email_verified_at = now or utcnow()
        db.session.flush()
    return user
