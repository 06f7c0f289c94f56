"""Signing a browser in and out. Every sign-in and sign-out of the web goes through here, so
the server-side session record (issue 20) has one place to live.

Flask-Login keeps what identifies the visitor in `session["_user_id"]` (and, with
remember-me, in its cookie). Here that is not the user's id but the random key of a
`UserSession` record (crowdfund/services/user_sessions.py), and the login manager's user
loader (`load_user`) finds the user only through a live record. So ending the record ends
the session for every copy of the cookie.
"""

from flask import g, request, session
from flask_login import login_user, logout_user

from ...services import user_sessions

SESSION_KEY = "_user_id"  # Flask-Login's own key: its remember-me cookie copies it


def sign_in(user, remember=False):
    """Sign this browser in as `user` with a new session record. False (nothing done) when
    the account may not sign in (suspended, deleted)."""
    if not user.is_active:
        return False
    user_sessions.end_by_key(session.get(SESSION_KEY))  # a session this browser had before: replaced, so over
    raw_key, record = user_sessions.start(user, user_agent=request.user_agent.string, ip=request.remote_addr)
    login_user(user, remember=remember)
    session[SESSION_KEY] = raw_key
    g.user_session_id = record.id
    return True


def sign_out():
    """End this browser's session record, then forget it here."""
    user_sessions.end_by_key(session.get(SESSION_KEY))
    logout_user()
    g.pop("user_session_id", None)


def current_session_id():
    """The id of this browser's live session record, when it is signed in (else None)."""
    return g.get("user_session_id")


def end_all_sessions(user, *, except_current=False):
    """End every session of `user` (all but this browser's with `except_current`)."""
    return user_sessions.end_all(user, except_id=current_session_id() if except_current else None)


def load_user(raw_key):
    """Flask-Login's user loader: the user of the live session `raw_key` names, else None."""
    found = user_sessions.signed_in_user(raw_key)
    if found is None:
        return None
    g.user_session_id = found.session_id
    return found.user
