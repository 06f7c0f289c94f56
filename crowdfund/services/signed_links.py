"""Links mailed to an account (password reset, email verification): signed, timed, and tied
to the account's state, so a link stops working once what it was for has happened.

A link carries `{"u": user id, "f": fingerprint}` signed with SECRET_KEY (itsdangerous),
under a salt of its own purpose, so a link made for one purpose is refused by the other.
The fingerprint is a digest of what the link depends on (for a reset: the password hash and
the address), never the values themselves: the payload is only signed, not encrypted.
"""

import hashlib
import hmac

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..models import User

# Anything longer is not a link we made.
MAX_TOKEN_LENGTH = 1000


class LinkRefused(DomainError):
    """The link is malformed, expired, or already used."""

    code = "invalid_link"
    status = 400


def fingerprint(*values):
    return hashlib.sha256("\x00".join(str(v) for v in values).encode("utf-8")).hexdigest()[:32]


def _serializer(purpose):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"crowdfund.{purpose}")


def make(purpose, user, print_):
    return _serializer(purpose).dumps({"u": user.id, "f": print_})


def token_digest(token):
    """A short, stable name for a token (outbox dedupe keys), revealing nothing of it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:24]


def read(purpose, token, *, max_age, fingerprint_of, lock=False):
    """The user a live link of `purpose` names. LinkRefused when the token is malformed, older
    than `max_age` seconds, names nobody, or `fingerprint_of(user)` no longer matches (the
    link was used, or the account changed since). `lock`: the user's row is locked (FOR
    UPDATE) and read afresh, so two uses of one link at once cannot both pass."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise _invalid()
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkRefused(_("This link has expired. Ask for a new one."), code="link_expired") from None
    except (BadSignature, UnicodeError, ValueError):
        raise _invalid() from None
    user_id = data.get("u") if isinstance(data, dict) else None
    if type(user_id) is not int or not 0 < user_id < 2**31:
        raise _invalid()
    query = select(User).where(User.id == user_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    user = db.session.scalar(query)
    if user is None or not user.is_active or not hmac.compare_digest(fingerprint_of(user), str(data.get("f"))):
        raise _invalid()
    return user


def _invalid():
    return LinkRefused(_("This link is not valid, or it was already used. Ask for a new one."))
