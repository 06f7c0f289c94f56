"""Bearer tokens for the JSON API.

A token is `secrets.token_urlsafe(32)`, shown once when it is issued; only its SHA-256
digest is stored (`ApiToken.token_hash`), so a copy of the database gives nobody a working
token. Tokens expire after `API_TOKEN_TTL` seconds and can be revoked.
"""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager

from ..errors import DomainError
from ..extensions import db
from ..models import ApiToken, utcnow
from . import accounts, use_case

DEFAULT_TTL = 30 * 24 * 3600
# The most a token string can be: anything longer is not ours and is not even hashed.
MAX_TOKEN_LENGTH = 200


def digest(raw):
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401


@use_case
def issue_token(email, password, *, label=None, now=None):
    """Check the credentials and return `(raw_token, ApiToken)`; the raw token is never stored."""
    user = accounts.authenticate(email, password)
    if user is None:
        raise InvalidCredentials("That email and password do not match an account.")
    now = now or utcnow()
    raw = secrets.token_urlsafe(32)
    ttl = int(current_app.config.get("API_TOKEN_TTL", DEFAULT_TTL))
    token = ApiToken(user_id=user.id, token_hash=digest(raw), created_at=now,
                     expires_at=now + timedelta(seconds=ttl), label=label)
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
_LIVE_TOKEN = (select(ApiToken).join(ApiToken.user).options(contains_eager(ApiToken.user))
               .where(ApiToken.token_hash == bindparam("hash"), ApiToken.revoked_at.is_(None),
                      ApiToken.expires_at > bindparam("now")))


@use_case
def revoke_token(token, *, now=None):
    """Revoke `token` (revoking twice is harmless)."""
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
    db.session.flush()
    return token
