"""Accounts: registration, authentication, passwords, admins."""

import threading

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..domain.clock import utcnow
from ..errors import Conflict, ValidationError
from ..extensions import db
from ..models import User
from . import email_verification, use_case, user_sessions

# The most common passwords of at least ten characters; refusing them costs nothing.
COMMON_PASSWORDS = frozenset(
    """
1234567890 12345678910 0123456789 1234567891 qwertyuiop password123 password12
password1! iloveyou12 qwerty1234 1q2w3e4r5t 1qaz2wsx3edc abcdefghij aaaaaaaaaa
passw0rd123 welcome123 football12 baseball12 princess12 sunshine12 letmein123
administrator 11111111111 0000000000 9876543210 qazwsxedcrfv zaq12wsxcde
""".split()
)

# A fixed hash to check against when the email is unknown, so a login attempt
# takes the same time whether or not the account exists: made once per hash method
# (`_dummy_hash`), under a lock, so threads serving their first logins at once make it once.
_DUMMY_HASHES = {}
_DUMMY_HASH_LOCK = threading.Lock()


def normalise_email(raw):
    """The canonical, lower-cased form of an address, or a ValidationError."""
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        message = _("That email address is not valid: %(reason)s", reason=exc)
        raise ValidationError(message, fields={"email": message}) from None
    return result.normalized.lower()


def password_problem(password, email=""):
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        return _("Use at least %(num)d characters.", num=minimum)
    if len(password) > 256:
        return _("Use at most 256 characters.")
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        return _("This password is too easy to guess; choose a less common one.")
    local_part = email.split("@")[0].lower()
    if local_part and len(local_part) >= 4 and local_part in password.lower():
        return _("Do not use your email address in your password.")
    return None


def hash_password(password):
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def _dummy_hash():
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    found = _DUMMY_HASHES.get(method)
    if found is None:
        with _DUMMY_HASH_LOCK:
            found = _DUMMY_HASHES.get(method)
            if found is None:
                found = _DUMMY_HASHES[method] = hash_password("not-a-real-password")
    return found


def find_by_email(email):
    return db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))


@use_case
def register(email, password, name, *, is_admin=False):
    email = normalise_email(email)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Enter your name."), fields={"name": _("Enter your name.")})
    if len(name) > 120:
        raise ValidationError(
            _("Your name is too long (120 characters at most)."),
            fields={"name": _("Your name is too long (120 characters at most).")},
        )
    problem = password_problem(password, email)
    if problem:
        raise ValidationError(problem, fields={"password": problem})
    if find_by_email(email):
        raise _email_taken()
    user = User(email=email, name=name, password_hash=hash_password(password), is_admin=is_admin)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # registered by someone else since the check above; use_case rolls back
        raise _email_taken() from None
    return user


@use_case
def sign_up(email, password, name, *, accept_terms, page_locale=None):
    """A person opening an account of their own (the web form, POST /api/v1/users): they must
    accept the terms and privacy notice (the version, TERMS_VERSION, is kept with the time),
    and a mail asks them to confirm the address (services/email_verification.py)."""
    if accept_terms is not True:
        message = _("Please accept the terms of use and the privacy notice to open an account.")
        raise ValidationError(message, code="terms_not_accepted", fields={"accept_terms": message})
    user = register(email, password, name)
    user.terms_version = current_app.config["TERMS_VERSION"]
    user.terms_accepted_at = utcnow()
    email_verification.request_verification(user, page_locale=page_locale)
    return user


def _email_taken():
    message = _("An account with this email address already exists.")
    return Conflict(message, code="email_taken", fields={"email": message})


def authenticate(email, password):
    """The user with these credentials, or None. Same cost whether or not the email exists."""
    try:
        email = normalise_email(email)
    except ValidationError:
        return None
    user = find_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        return None
    return user if check_password_hash(user.password_hash, password or "") else None


@use_case
def change_password(user, current_password, new_password, *, keep_session_id=None, keep_token=None):
    """Set a new password, then sign the account out everywhere else: every browser session but
    `keep_session_id` (the one asking; None: all of them) ends, and every API token but
    `keep_token` is revoked. Whoever knew the old password is out."""
    if not check_password_hash(user.password_hash, current_password or ""):
        message = _("Your current password is not right.")
        raise ValidationError(message, fields={"current_password": message})
    problem = password_problem(new_password, user.email)
    if problem:
        raise ValidationError(problem, fields={"new_password": problem})
    user.password_hash = hash_password(new_password)
    from . import api_tokens  # here: api_tokens imports this module

    user_sessions.end_all(user, except_id=keep_session_id)
    api_tokens.revoke_all(user, except_token=keep_token)
    db.session.flush()


@use_case
def make_admin(email, password, name="Administrator"):
    """Create an admin, or promote an existing account (its password is then reset)."""
    email = normalise_email(email)
    user = find_by_email(email)
    if user is None:
        return register(email, password, name, is_admin=True)
    problem = password_problem(password, email)
    if problem:
        raise ValidationError(problem, fields={"password": problem})
    user.is_admin = True
    user.password_hash = hash_password(password)
    db.session.flush()
    return user


def list_users(q=None, page=1, per_page=50):
    """(users on this page, how many match) for the admins' users list, newest first.
    `q` matches part of the name or email."""
    query = select(User)
    if q and q.strip():
        like = "%" + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            func.lower(User.email).like(like, escape="\\") | func.lower(User.name).like(like, escape="\\")
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    users = db.session.scalars(
        query.order_by(User.created_at.desc(), User.id.desc()).offset((max(page, 1) - 1) * per_page).limit(per_page)
    ).all()
    return users, total


def sign_in_refusal(user):
    """Why `user`, whose password was right, may not sign in now (a message), or None.

    `authenticate` answers only "do the credentials match"; the login page asks this next,
    so a suspended person is told so instead of "wrong password"."""
    if user.deleted_at is not None:
        return _("That email and password do not match an account.")
    if user.suspended_at is not None:
        return _("This account is suspended, so it cannot sign in. Please contact us if you think this is a mistake.")
    return None
