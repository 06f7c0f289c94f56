"""Server-side records of signed-in browsers (`UserSession`).

Signing in makes a record and a random key; the browser's session cookie carries the key,
the table only its SHA-256 digest. Every signed-in request finds its user through a live
record (`signed_in_user`), so ending the record signs that browser out for good: a copy of
the cookie taken before, or a remember-me cookie, no longer works. Records end at logout,
when their owner ends them from /account/sessions, on a password change (all but the
browser that changed it) or reset (all), and by themselves after SESSION_IDLE_TIMEOUT
seconds unseen.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update

from ..domain.clock import utcnow
from ..errors import NotFound
from ..extensions import db
from ..models import User, UserSession
from . import use_case

# Anything longer is not a key we made: it is not even hashed.
MAX_KEY_LENGTH = 100


def digest(raw_key):
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


@use_case
def start(user, *, user_agent=None, ip=None, now=None):
    """A new live session for `user`: returns `(raw_key, UserSession)`; the key is never stored."""
    now = now or utcnow()
    raw_key = secrets.token_urlsafe(32)
    record = UserSession(
        user_id=user.id,
        key_digest=digest(raw_key),
        created_at=now,
        last_seen_at=now,
        user_agent=(user_agent or "")[:300] or None,
        ip=(ip or "")[:45] or None,
    )
    db.session.add(record)
    db.session.flush()
    return raw_key, record


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: int


# On the path of every signed-in page: one indexed lookup joining the record and its user,
# built once (see services/pledges.py).
_LIVE_SESSION = (
    select(User, UserSession.id, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(
        UserSession.key_digest == bindparam("digest"),
        UserSession.ended_at.is_(None),
        UserSession.last_seen_at > bindparam("idle_since"),
    )
)

_TOUCH = (
    update(UserSession)
    .where(UserSession.id == bindparam("session_id"))
    .values(last_seen_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)


def signed_in_user(raw_key, *, now=None):
    """The live session for the cookie's `raw_key` with its user (SignedIn), or None: unknown,
    ended, idle too long, or the account may not be signed in (suspended, deleted).

    Moves the record's last_seen_at forward when it is SESSION_TOUCH_INTERVAL old or more
    (one UPDATE, committed with the request), so most requests only read."""
    if not isinstance(raw_key, str) or not raw_key or len(raw_key) > MAX_KEY_LENGTH:
        return None
    try:
        hashed = digest(raw_key)
    except UnicodeEncodeError:
        return None
    now = now or utcnow()
    idle = timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT"])
    row = db.session.execute(_LIVE_SESSION, {"digest": hashed, "idle_since": now - idle}).first()
    if row is None or not row.User.is_active:
        return None
    if row.last_seen_at <= now - timedelta(seconds=current_app.config["SESSION_TOUCH_INTERVAL"]):
        db.session.execute(_TOUCH, {"session_id": row.id, "now": now})
    return SignedIn(row.User, row.id)


def end_by_key(raw_key, *, now=None):
    """End the session this cookie key belongs to (logout). Nothing happens for an unknown key."""
    if not isinstance(raw_key, str) or not raw_key or len(raw_key) > MAX_KEY_LENGTH:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.key_digest == digest(raw_key), UserSession.ended_at.is_(None))
        .values(ended_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def end_all(user, *, except_id=None, now=None):
    """End every live session of `user`, but the one with id `except_id` (the browser asking).
    Returns how many ended."""
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if except_id is not None:
        query = query.where(UserSession.id != except_id)
    result = db.session.execute(query.values(ended_at=now or utcnow()).execution_options(synchronize_session="fetch"))
    return result.rowcount


@use_case
def end_one(user, session_id, *, now=None):
    """End one of `user`'s own sessions; NotFound for anyone else's (or no such session)."""
    record = db.session.get(UserSession, session_id) if 0 < session_id < 2**31 else None
    if record is None or record.user_id != user.id:
        raise NotFound("There is no such session.")
    if record.ended_at is None:
        record.ended_at = now or utcnow()
    db.session.flush()
    return record


def active_for(user, *, now=None):
    """`user`'s live sessions, the most recently seen first."""
    now = now or utcnow()
    idle_since = now - timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT"])
    return db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None), UserSession.last_seen_at > idle_since)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
