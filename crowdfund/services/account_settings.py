"""What a person edits about their own account: name, language, time zone and email address.

A new email address is unverified until its owner follows the link mailed to it
(services/email_verification.py); changing it needs the current password, because
whoever controls the address can reset the password."""

from functools import lru_cache
from zoneinfo import available_timezones

from babel.core import get_global
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

from ..errors import Conflict, ValidationError
from ..extensions import db
from . import accounts, email_verification, use_case

NAME_MAX = 120


@lru_cache(maxsize=1)
def time_zones():
    """The IANA zones a person can choose, sorted ("Africa/Abidjan" ... "Pacific/Wallis"), then
    "UTC": each place once, by its current name, without the legacy aliases ("US/Eastern",
    "Asia/Calcutta", "Etc/GMT+8")."""
    regions = (
        "Africa/",
        "America/",
        "Antarctica/",
        "Arctic/",
        "Asia/",
        "Atlantic/",
        "Australia/",
        "Europe/",
        "Indian/",
        "Pacific/",
    )
    aliases = get_global("zone_aliases")
    return tuple(sorted(zone for zone in available_timezones() if zone.startswith(regions) and zone not in aliases)) + (
        "UTC",
    )


def clean_name(raw):
    name = (raw or "").strip()
    if not name:
        raise ValidationError(_("Enter your name."), fields={"name": _("Enter your name.")})
    if len(name) > NAME_MAX:
        message = _("Your name is too long (%(num)d characters at most).", num=NAME_MAX)
        raise ValidationError(message, fields={"name": message})
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        message = _("Your name cannot contain control characters.")
        raise ValidationError(message, fields={"name": message})
    return name


@use_case
def update_profile(user, *, name, locale, timezone):
    """Save the name, language ("" or None: the browser's) and time zone ("" or None: the browser's)."""
    name = clean_name(name)
    locale = locale or None
    if locale is not None and locale not in current_app.config["LANGUAGES"]:
        message = _("Choose one of the languages offered.")
        raise ValidationError(message, fields={"locale": message})
    timezone = timezone or None
    if timezone is not None and timezone not in time_zones():
        message = _("Choose one of the time zones offered.")
        raise ValidationError(message, fields={"timezone": message})
    user.name, user.locale, user.timezone = name, locale, timezone
    db.session.flush()
    return user


@use_case
def change_email(user, *, password, new_email):
    """Move the account to `new_email` (unverified until its owner follows the mailed link)."""
    if not check_password_hash(user.password_hash, password or ""):
        message = _("Your current password is not right.")
        raise ValidationError(message, fields={"password": message})
    email = accounts.normalise_email(new_email)
    if email == user.email:
        message = _("That is already your email address.")
        raise ValidationError(message, fields={"email": message})
    other = accounts.find_by_email(email)
    if other is not None:
        raise _email_taken()
    user.email = email
    user.email_verified_at = None
    try:
        db.session.flush()
    except IntegrityError:  # taken by someone else since the check above; use_case rolls back
        raise _email_taken() from None
    email_verification.request_verification(user)
    return user


def _email_taken():
    message = _("An account with this email address already exists.")
    return Conflict(message, code="email_taken", fields={"email": message})
