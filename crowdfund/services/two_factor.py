"""Two-factor sign-in: codes from an authenticator app (TOTP, RFC 6238), and recovery codes.

Enrolment keeps a new secret unconfirmed until the person proves their app has it by
entering a code; only then is it on, and ten recovery codes are made and shown once. A code
is good once: the time step of the last one accepted is kept, and no code of that step or
an earlier one is taken again. Wrong codes are counted per account (`sign_in_limits`).
"""

import hashlib
import hmac
import secrets

import pyotp
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..domain.clock import utcnow
from ..errors import Conflict, DomainError, PermissionDenied, ValidationError
from ..extensions import db
from ..models import RecoveryCode, UserTwoFactor
from . import sign_in_limits, use_case

RECOVERY_CODE_COUNT = 10
# Read off paper and typed back: no 0/o, 1/l/i to confuse. Ten of them: ~49 bits each.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10
MAX_CODE_LENGTH = 64  # anything longer is neither kind of code, and is not even looked at


class CodeRequired(DomainError):
    code = "otp_required"
    status = 401


class InvalidCode(DomainError):
    code = "invalid_otp"
    status = 401


def settings_of(user):
    return db.session.get(UserTwoFactor, user.id)


def is_enabled(user):
    settings = settings_of(user)
    return settings is not None and settings.enabled_at is not None


def must_enrol(user):
    """An administrator without two-factor sign-in, while `ADMIN_2FA_REQUIRED`: may do nothing else first."""
    return (
        bool(getattr(user, "is_admin", False))
        and current_app.config.get("ADMIN_2FA_REQUIRED", True)
        and not is_enabled(user)
    )


def provisioning_uri(user, settings):
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(settings.secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["TWO_FACTOR_ISSUER"]
    )


def recovery_codes_left(user):
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


@use_case
def begin_enrolment(user):
    """The unconfirmed settings to show on the enrolment page: the same secret each time it is
    opened until it is confirmed, so a reload does not undo what was scanned."""
    settings = settings_of(user)
    if settings is not None and settings.enabled_at is not None:
        raise Conflict(_("Two-factor authentication is already on."), code="two_factor_enabled")
    if settings is None:
        settings = UserTwoFactor(user_id=user.id, secret=pyotp.random_base32())
        db.session.add(settings)
        db.session.flush()
    return settings


@use_case
def confirm_enrolment(user, code, *, now=None):
    """Turn two-factor sign-in on with the first code from the app; returns the recovery codes
    (shown once, never stored as they are)."""
    now = now or utcnow()
    settings = settings_of(user)
    if settings is None or settings.enabled_at is not None:
        raise Conflict(_("Open the two-factor page again to start over."), code="two_factor_enabled")
    step = _matching_step(settings.secret, _digits(code), now)
    if step is None:
        message = _("That code is not right. Check that the app shows this account, and enter its current code.")
        raise ValidationError(message, code="invalid_otp", fields={"code": message})
    settings.enabled_at = now
    settings.last_used_step = step
    codes = _replace_recovery_codes(user, now)
    db.session.flush()
    return codes


@use_case
def verify(user, code, *, now=None):
    """Accept a current code from the app or an unused recovery code, once; else InvalidCode.
    Refused with TooManyAttempts while the account's wrong codes are spent. Returns how the
    person proved it: "app" or "recovery code"."""
    now = now or utcnow()
    # Locked (PostgreSQL) until the request ends: two requests with one code accept it once.
    settings = db.session.scalar(
        select(UserTwoFactor)
        .where(UserTwoFactor.user_id == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if settings is None or settings.enabled_at is None:
        raise InvalidCode(_("Two-factor authentication is not on for this account."))
    sign_in_limits.check_code_attempts(user.id)
    code = (code or "").strip()
    if len(code) <= MAX_CODE_LENGTH:
        digits = _digits(code)
        if digits.isdigit():
            step = _matching_step(settings.secret, digits, now)
            if step is not None and step <= (settings.last_used_step or 0):
                sign_in_limits.code_failed(user.id)
                raise InvalidCode(_("That code was used already. Wait for the app to show the next one."))
            if step is not None:
                settings.last_used_step = step
                db.session.flush()
                sign_in_limits.code_accepted(user.id)
                return "app"
        elif _use_recovery_code(user, code, now):
            sign_in_limits.code_accepted(user.id)
            return "recovery code"
    sign_in_limits.code_failed(user.id)
    raise InvalidCode(_("That code is not right. Enter the current code from your app, or one of your recovery codes."))


@use_case
def new_recovery_codes(user, code, *, now=None):
    """Replace every recovery code (after a code proves it is the owner): the new ones, shown once."""
    now = now or utcnow()
    verify(user, code, now=now)
    codes = _replace_recovery_codes(user, now)
    db.session.flush()
    return codes


@use_case
def disable(user, password, code):
    """Turn two-factor sign-in off: the password and a code (or a recovery code) both needed."""
    if must_keep(user):
        raise PermissionDenied(_("Administrators must keep two-factor authentication on."))
    if sign_in_limits.authenticate(user.email, password) is None:
        message = _("Your password is not right.")
        raise ValidationError(message, fields={"password": message})
    try:
        verify(user, code)
    except InvalidCode as error:
        raise ValidationError(error.message, code="invalid_otp", fields={"code": error.message}) from None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.delete(settings_of(user))
    db.session.flush()


def must_keep(user):
    """Administrators may not turn it off while `ADMIN_2FA_REQUIRED`."""
    return bool(getattr(user, "is_admin", False)) and current_app.config.get("ADMIN_2FA_REQUIRED", True)


def _digits(code):
    return "".join((code or "").split())  # apps show "123 456"; people type it so


def _matching_step(secret, digits, now):
    """The time step whose code `digits` is (the current one first), or None."""
    if len(digits) != 6 or not digits.isascii() or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    # One step either side is accepted too: a phone's clock a little off, or a code typed
    # just as it changed.
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def _recovery_digest(code):
    normalised = "".join(ch for ch in code.lower() if ch not in " -")
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()


def _use_recovery_code(user, code, now):
    found = db.session.scalar(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_digest == _recovery_digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    )
    if found is None:
        return False
    found.used_at = now
    db.session.flush()
    return True


def _replace_recovery_codes(user, now):
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _n in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _i in range(RECOVERY_CODE_LENGTH))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        db.session.add(RecoveryCode(user_id=user.id, code_digest=_recovery_digest(code), created_at=now))
    return codes
