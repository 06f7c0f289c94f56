"""Bearer tokens for the JSON API.

A token is `secrets.token_urlsafe(32)`, shown once when it is issued; only its SHA-256
digest is stored (`ApiToken.token_hash`), so a copy of the database gives nobody a working
token. Tokens expire after `API_TOKEN_TTL` seconds and can be revoked.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import contains_eager

from ..domain.clock import utcnow
from ..errors import DomainError, NotFound, PermissionDenied
from ..extensions import db
from ..models import ApiToken
from . import sign_in_limits, two_factor, use_case

DEFAULT_TTL = 30 * 24 * 3600
# The most a token string can be: anything longer is not ours and is not even hashed.
MAX_TOKEN_LENGTH = 200


def digest(raw):
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401


@use_case
def issue_token(email, password, *, otp=None, label=None, now=None):
    """Check the credentials and return `(raw_token, ApiToken)`; the raw token is never stored.

    Failed passwords count against the account's budget shared with the web login
    (TooManyAttempts once spent). An account with two-factor sign-in needs `otp` as well: a
    current code from its app, or a recovery code (CodeRequired / InvalidCode, both 401)."""
    user = sign_in_limits.authenticate(email, password)
    if user is None or user.deleted_at is not None:
        raise InvalidCredentials("That email and password do not match an account.")
    if user.suspended_at is not None:
        # Told plainly (the password was right), and no token: it could not be used anyway.
        raise PermissionDenied(
            "This account is suspended, so it cannot sign in. Please contact us if you think this is a mistake.",
            code="account_suspended",
        )
    if two_factor.is_enabled(user):
        if not otp:
            raise two_factor.CodeRequired(
                "This account uses two-factor authentication: send the code from its authenticator app as `otp`."
            )
        two_factor.verify(user, otp, now=now)
    sign_in_limits.signed_in(user.email)
    now = now or utcnow()
    raw = secrets.token_urlsafe(32)
    ttl = int(current_app.config.get("API_TOKEN_TTL", DEFAULT_TTL))
    token = ApiToken(
        user_id=user.id, token_hash=digest(raw), created_at=now, expires_at=now + timedelta(seconds=ttl), label=label
    )
    db.session.add(token)
    db.session.flush()
    return raw, token


def find_token(raw, *, now=None):
    """The live (not expired, not revoked) token for `raw`, with its user, or None."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    try:
        hashed = digest(raw)
    except UnicodeEncodeError:
        return None
    return db.session.scalar(_LIVE_TOKEN, {"hash": hashed, "now": now or utcnow()})


# Every API request runs it: built once (see services/pledges.py). The user comes with it.
_LIVE_TOKEN = (
    select(ApiToken)
    .join(ApiToken.user)
    .options(contains_eager(ApiToken.user))
    .where(
        ApiToken.token_hash == bindparam("hash"), ApiToken.revoked_at.is_(None), ApiToken.expires_at > bindparam("now")
    )
)


@use_case
def revoke_token(token, *, now=None):
    """Revoke `token` (revoking twice is harmless)."""
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    db.session.flush()
    return token


def revoke_all(user, except_token=None, *, now=None):
    """Revoke every live token of `user`, but `except_token` (the one making this request, when
    the API asks). Returns how many were revoked."""
    query = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if except_token is not None:
        query = query.where(ApiToken.id != except_token.id)
    result = db.session.execute(query.values(revoked_at=now or utcnow()).execution_options(synchronize_session="fetch"))
    return result.rowcount


def live_for(user, *, now=None):
    """`user`'s tokens that still work (not expired, not revoked), the newest first."""
    return db.session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > (now or utcnow()))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()


@use_case
def revoke_own(user, token_id, *, now=None):
    """Revoke one of `user`'s own tokens by id; NotFound for anyone else's (or no such token)."""
    token = db.session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if token is None or token.user_id != user.id:
        raise NotFound("There is no such token.")
    return revoke_token(token, now=now)
