"""Money: integer minor units with an ISO 4217 currency. Never floats."""
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision
from flask_babel import gettext as _

# Currencies a campaign may raise in. The exponent comes from CLDR via Babel.
SUPPORTED_CURRENCIES = ("CNY", "USD", "EUR", "GBP", "HKD", "SGD", "JPY")
# A single amount above this (in major units) is refused as absurd.
MAX_MAJOR_UNITS = 1_000_000_000


def exponent(currency):
    return get_currency_precision(currency)


def to_minor(value, currency):
    """Parse a decimal string typed by a person ('12.50') into minor units (1250).

    Refuses more decimal places than the currency has, negatives, and absurd sizes.
    """
    text = str(value).strip().replace(",", "").replace("_", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("Enter an amount as a number, like 25 or 25.50."))
    if not amount.is_finite():
        raise ValueError(_("Enter an amount as a number, like 25 or 25.50."))
    places = exponent(currency)
    scaled = amount.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(_("%(currency)s amounts have at most %(places)d decimal places.", currency=currency,
                           places=places))
    if amount < 0:
        raise ValueError(_("The amount cannot be negative."))
    if amount > MAX_MAJOR_UNITS:
        raise ValueError(_("That amount is too large."))
    return int(scaled)


def to_major(minor, currency):
    return Decimal(minor).scaleb(-exponent(currency))


@lru_cache(maxsize=8192)
def format_money(minor, currency, locale="en"):
    # Memoised: Babel's formatting is the costliest part of a page or a mail, and the same
    # few amounts come back again and again (tier prices, goals, pledge amounts).
    if minor is None:
        return ""
    return format_currency(to_major(minor, currency), currency, locale=locale,
                           currency_digits=True)


def max_minor(currency):
    return MAX_MAJOR_UNITS * 10 ** exponent(currency)
