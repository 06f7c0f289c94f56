"""Money: integer minor units with an ISO 4217 currency. Never floats."""

from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision
from flask import has_request_context
from flask_babel import get_locale, gettext as _

from . import numbers

# Currencies a campaign may raise in. The exponent comes from CLDR via Babel.
SUPPORTED_CURRENCIES = ("CNY", "USD", "EUR", "GBP", "HKD", "SGD", "JPY")
# A single amount above this (in major units) is refused as absurd.
MAX_MAJOR_UNITS = 1_000_000_000


def exponent(currency):
    return get_currency_precision(currency)


def to_minor(value, currency, locale=None):
    """An amount in major units into minor units: typed by a person ('1,250.50' -> 125050),
    or a Decimal/int the program already holds.

    Typed text is read as the page's language writes numbers (`locale`, by default the
    request's): digits 0-9, its decimal separator once, its group separator only between
    whole groups (`numbers.read`). Refuses anything else with a message showing the expected
    form, more decimal places than the currency has, negatives, and absurd sizes.
    """
    places = exponent(currency)
    if isinstance(value, str):
        locale = locale or page_locale()
        reading = numbers.read(value, locale)
        if reading is None:
            raise ValueError(
                _("Enter an amount as a number, like %(example)s.", example=numbers.example(locale, places))
            )
        if len(reading.fraction) > places:
            raise ValueError(
                _("%(currency)s amounts have no decimal places.", currency=currency)
                if not places
                else _("%(currency)s amounts have at most %(places)d decimal places.", currency=currency, places=places)
            )
        amount = reading.decimal
    else:
        try:
            amount = Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise ValueError(
                _("Enter an amount as a number, like %(example)s.", example=numbers.example("en", places))
            ) from None
        if not amount.is_finite():
            raise ValueError(_("Enter an amount as a number, like %(example)s.", example=numbers.example("en", places)))
    if amount < 0:
        raise ValueError(_("The amount cannot be negative."))
    if amount > MAX_MAJOR_UNITS:  # before scaling: a huge exponent must not reach `scaleb`
        raise ValueError(_("That amount is too large."))
    scaled = amount.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(
            _("%(currency)s amounts have at most %(places)d decimal places.", currency=currency, places=places)
        )
    return int(scaled)


def page_locale():
    """The language of the page being answered (English outside a request)."""
    if has_request_context():
        return str(get_locale() or "en")
    return "en"


def to_major(minor, currency):
    return Decimal(minor).scaleb(-exponent(currency))


@lru_cache(maxsize=8192)
def format_money(minor, currency, locale="en"):
    # Memoised: Babel's formatting is the costliest part of a page or a mail, and the same
    # few amounts come back again and again (tier prices, goals, pledge amounts).
    if minor is None:
        return ""
    return format_currency(to_major(minor, currency), currency, locale=locale, currency_digits=True)


def max_minor(currency):
    return MAX_MAJOR_UNITS * 10 ** exponent(currency)
