"""Firms: founders register the company that raises money."""

from functools import lru_cache
from urllib.parse import urlsplit

from babel import Locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..domain.registration_numbers import normalise, registration_number_problem
from ..errors import Conflict, NotFound, PermissionDenied, ValidationError
from ..extensions import db
from ..models import Firm, FirmMember
from . import use_case

# What the firm's people type. Where it is paid is not among them: a payout account is made
# by the processor's onboarding (services/payout_accounts.py), never typed.
FIRM_FIELDS = ("legal_name", "registration_number", "country", "address", "website", "description")


@lru_cache(maxsize=16)
def country_names(locale="en"):
    """{ISO code: name} in `locale` (cached: treat the dict as read-only)."""
    territories = Locale.parse(locale).territories
    return {
        code: name
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in ("ZZ", "EU", "EZ", "UN", "QO", "XA", "XB")
    }


def clean(data, existing=None):
    """Validate firm fields; return the cleaned dict or raise with every problem at once."""
    errors = {}
    cleaned = {}
    legal_name = (data.get("legal_name") or "").strip()
    if not legal_name:
        errors["legal_name"] = _("Enter the firm's legal name.")
    elif len(legal_name) > 200:
        errors["legal_name"] = _("The legal name is too long (200 characters at most).")
    cleaned["legal_name"] = legal_name

    country = (data.get("country") or "").strip().upper()
    if country not in country_names():
        errors["country"] = _("Choose the country where the firm is registered.")
    cleaned["country"] = country

    number = normalise(data.get("registration_number"))
    if country and "country" not in errors:
        problem = registration_number_problem(country, number)
        if problem:
            errors["registration_number"] = problem
    cleaned["registration_number"] = number

    address = (data.get("address") or "").strip()
    if not address:
        errors["address"] = _("Enter the firm's registered address.")
    cleaned["address"] = address

    website = (data.get("website") or "").strip() or None
    if website:
        parts = urlsplit(website)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(website) > 300:
            errors["website"] = _("Enter a full web address starting with https:// (or leave it empty).")
    cleaned["website"] = website
    cleaned["description"] = (data.get("description") or "").strip()

    if errors:
        first = next(iter(errors.values()))
        raise ValidationError(first, fields=errors)
    clash = find_registered(country, number)
    if clash is not None and clash is not existing:
        raise _number_taken()
    return cleaned


def find_registered(country, registration_number):
    return db.session.scalar(
        select(Firm).where(Firm.country == country, Firm.registration_number == registration_number)
    )


def _number_taken():
    message = _("A firm with this registration number is already registered.")
    return Conflict(message, code="registration_number_taken", fields={"registration_number": message})


@use_case
def register_firm(owner, data):
    cleaned = clean(data)
    firm = Firm(**cleaned)
    firm.members.append(FirmMember(user=owner, role="owner"))
    db.session.add(firm)
    flush_unless_taken()
    return firm


# Editing a firm is services/firm_changes.py: some details are locked while money is at stake.


def flush_unless_taken():
    """A firm registered with the same number by someone else since `clean` checked fails
    on the unique constraint: a Conflict, like the check's (use_case rolls back)."""
    try:
        db.session.flush()
    except IntegrityError:
        raise _number_taken() from None


def get_firm(firm_id):
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        raise NotFound(_("There is no such firm."))
    return firm


def require_member(user, firm):
    if not firm.has_member(user):
        raise PermissionDenied(_("Only the firm's own people can do that."))
