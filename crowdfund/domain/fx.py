"""Amounts in one currency expressed in another, at reference rates. Never floats.

A rate is how many units of a currency one US dollar buys (USD itself: 1), as a decimal
string, with the date it was published. Reference rates are for limits, not for payments:
nothing is ever paid at them. Which way an amount is rounded is the caller's choice, so a
limit can round against the investor's favour nowhere (limits round down, what already
counts against them rounds up).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

from .money import exponent

BASE = "USD"


class UnknownRate(LookupError):
    """No reference rate for a currency: an amount in it cannot be compared with a limit."""


def parse_rate(text):
    """A rate as written (a positive decimal like "7.1834"), or ValueError."""
    try:
        rate = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a number: {text!r}") from None
    if not rate.is_finite() or rate <= 0 or rate > Decimal(10) ** 9:
        raise ValueError(f"not a usable rate: {text!r}")
    return rate


def parse_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass(frozen=True)
class ReferenceRates:
    per_usd: dict = field(default_factory=dict)  # currency -> Decimal units per US dollar
    as_of: date | None = None  # the oldest date among the rates in use

    @classmethod
    def from_config(cls, setting):
        """FX_RATES: {"as_of": "YYYY-MM-DD", "per_usd": {"EUR": "0.95", ...}}."""
        rates = {code.upper(): parse_rate(rate) for code, rate in (setting.get("per_usd") or {}).items()}
        rates[BASE] = Decimal(1)
        return cls(rates, parse_date(setting["as_of"]) if setting.get("as_of") else None)

    def with_rates(self, rows):
        """These rates with `rows` (currency, rate, as_of) laid over them: an admin's newer figures."""
        rates, dates = dict(self.per_usd), [self.as_of] if self.as_of else []
        for currency, rate, as_of in rows:
            if currency != BASE:
                rates[currency] = parse_rate(rate)
            dates.append(parse_date(as_of))
        return ReferenceRates(rates, min(dates) if dates else None)

    def rate(self, currency):
        try:
            return self.per_usd[currency]
        except KeyError:
            raise UnknownRate(currency) from None

    def convert(self, minor, from_currency, to_currency, *, round_up=False):
        """`minor` units of `from_currency` in minor units of `to_currency`."""
        if from_currency == to_currency or not minor:
            return int(minor)
        major = Decimal(int(minor)).scaleb(-exponent(from_currency))
        target = major / self.rate(from_currency) * self.rate(to_currency)
        return int(target.scaleb(exponent(to_currency)).to_integral_value(ROUND_CEILING if round_up else ROUND_FLOOR))

    def total(self, amounts, to_currency, *, round_up=False):
        """The sum of {currency: minor units} in `to_currency`."""
        return sum(self.convert(minor, currency, to_currency, round_up=round_up) for currency, minor in amounts.items())
