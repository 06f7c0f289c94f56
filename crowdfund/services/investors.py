"""Investor profiles and the 12-month investment limit for equity commitments.

The limit is the rulebook's (domain/rulebooks.py), stated in its currency; commitments and
the profile's figures in any other currency are converted at the reference rates
(services/fx_rates.py)."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import BigInteger, Date, String, cast, func, null, select, union_all

from ..domain import rulebooks
from ..domain.clock import utcnow
from ..domain.fx import ReferenceRates
from ..domain.investment_limits import annual_limit, remaining_allowance
from ..domain.money import SUPPORTED_CURRENCIES, format_money, max_minor
from ..errors import ValidationError
from ..extensions import db
from ..models import FxRate, InvestorProfile, Pledge
from ..models.pledge import PledgeStatus as PS
from . import fx_rates, use_case

# Equity commitments that count against the limit: still in flight, in escrow, or completed.
COUNTED_STATUSES = (PS.PENDING.value, PS.REQUIRES_ACTION.value, PS.HELD.value, PS.RELEASED.value)


def get_profile(user):
    return db.session.scalar(select(InvestorProfile).where(InvestorProfile.user_id == user.id))


def is_complete(profile):
    return profile is not None and profile.risk_acknowledged_at is not None


# Per amount: (missing, not whole, negative, too large).
AMOUNT_MESSAGES = {
    "annual_income": (
        _l("Enter your annual income (0 if none)."),
        _l("Enter your annual income as a whole amount."),
        _l("Your annual income cannot be negative."),
        _l("That annual income is too large."),
    ),
    "net_worth": (
        _l("Enter your net worth (0 if none)."),
        _l("Enter your net worth as a whole amount."),
        _l("Your net worth cannot be negative."),
        _l("That net worth is too large."),
    ),
    "other_investments_12m": (
        _l("Enter your investments on other platforms (0 if none)."),
        _l("Enter your investments on other platforms as a whole amount."),
        _l("Your investments on other platforms cannot be negative."),
        _l("That amount of investments on other platforms is too large."),
    ),
}


def _amount(data, name, currency, errors):
    missing, not_whole, negative, too_large = AMOUNT_MESSAGES[name]
    value = data.get(name)
    if value is None or value == "":
        errors[name] = str(missing)
        return 0
    if type(value) is not int:
        errors[name] = str(not_whole)
        return 0
    if value < 0:
        errors[name] = str(negative)
    elif currency in SUPPORTED_CURRENCIES and value > max_minor(currency):
        errors[name] = str(too_large)
    return value


@use_case
def save_profile(user, data):
    """Create or update the user's investor profile. Amounts are minor units of `currency`.

    `data`: currency, annual_income, net_worth, accredited (bool), other_investments_12m,
    risk_acknowledged (must be true).
    """
    errors = {}
    currency = (data.get("currency") or "").strip().upper()
    if currency not in SUPPORTED_CURRENCIES:
        errors["currency"] = _("Choose the currency of your income and net worth.")
    income = _amount(data, "annual_income", currency, errors)
    net_worth = _amount(data, "net_worth", currency, errors)
    other = _amount(data, "other_investments_12m", currency, errors)
    if not data.get("risk_acknowledged"):
        errors["risk_acknowledged"] = _(
            "Please confirm that you understand the risks: you may lose all the money "
            "you invest, and shares in a small firm are hard to sell."
        )
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    profile = get_profile(user)
    if profile is None:
        profile = InvestorProfile(user_id=user.id)
        db.session.add(profile)
    profile.currency = currency
    profile.annual_income = income
    profile.net_worth = net_worth
    profile.accredited = bool(data.get("accredited"))
    profile.other_investments_12m = other
    profile.risk_acknowledged_at = profile.risk_acknowledged_at or utcnow()
    db.session.flush()
    return profile


@dataclass(frozen=True)
class Allowance:
    """What an investor may still commit, shown in `currency`; the rule is in `rule_currency`."""

    currency: str
    limit: int | None  # None: accredited, no limit
    committed: int  # on this platform in the window (every currency), plus other platforms
    remaining: int | None
    rule_currency: str = "USD"
    remaining_in_rule_currency: int | None = None
    rates_as_of: date | None = None  # the reference rates' date, when an amount was converted
    rates: ReferenceRates | None = field(default=None, repr=False, compare=False)

    def counts_as(self, minor, currency):
        """What `minor` units of `currency` would count against the limit (its currency, rounded up)."""
        return self.rates.convert(minor, currency, self.rule_currency, round_up=True)

    def describe(self):
        if self.limit is None:
            return _("As an accredited investor you have no 12-month limit.")
        locale = str(get_locale() or "en")
        text = _(
            "You can invest %(remaining)s more in the next 12 months (your limit is %(limit)s; "
            "%(committed)s already counts against it).",
            remaining=format_money(self.remaining, self.currency, locale=locale),
            limit=format_money(self.limit, self.currency, locale=locale),
            committed=format_money(self.committed, self.currency, locale=locale),
        )
        if self.rates_as_of is not None:
            text += " " + self.conversion_note()
        return text

    def conversion_note(self):
        return _(
            "Amounts in other currencies are converted at the reference rates of %(date)s.",
            date=self.rates_as_of.isoformat(),
        )


def rulebook():
    return rulebooks.from_config(current_app.config)


def _committed_and_rates(user_id, since):
    """One statement: the reference rates saved by admins, and what `user_id` committed since
    `since` per currency (every currency: the limit holds across them)."""
    saved = select(FxRate.currency, FxRate.per_usd, FxRate.as_of, cast(null(), BigInteger).label("committed"))
    committed = (
        select(Pledge.currency, cast(null(), String), cast(null(), Date), func.sum(Pledge.amount))
        .where(
            Pledge.backer_id == user_id,
            Pledge.shares.is_not(None),
            Pledge.status.in_(COUNTED_STATUSES),
            Pledge.created_at >= since,
        )
        .group_by(Pledge.currency)
    )
    rows = db.session.execute(union_all(saved, committed)).all()
    rates = fx_rates.configured().with_rates((r[0], r[1], r[2]) for r in rows if r[1] is not None)
    return {r[0]: int(r[3]) for r in rows if r[1] is None and r[3]}, rates


def allowance(user, profile, currency, *, now=None):
    """What `user` may still commit, shown in `currency` (any currency with a reference rate).

    The limit is computed in the rulebook's currency from the profile's figures converted to
    it; every commitment in the window counts, converted too. Conversions round against the
    investor (the limit down, what counts against it up), so no switch of currency gains anything.
    Raises fx.UnknownRate when a currency involved has no reference rate."""
    book = rulebook()
    rule_currency = book.currency
    amounts, rates = _committed_and_rates(user.id, (now or utcnow()) - timedelta(days=book.limit.window_days))
    committed = rates.total(amounts, rule_currency, round_up=True) + rates.convert(
        profile.other_investments_12m, profile.currency, rule_currency, round_up=True
    )
    converted = any(c != rule_currency for c in (*amounts, profile.currency, currency))
    as_of = rates.as_of if converted else None
    shown_committed = rates.convert(committed, rule_currency, currency, round_up=True)
    if profile.accredited:
        return Allowance(currency, None, shown_committed, None, rule_currency, None, as_of, rates)
    limit = annual_limit(
        rates.convert(profile.annual_income, profile.currency, rule_currency),
        rates.convert(profile.net_worth, profile.currency, rule_currency),
        rule_currency,
        book.limit,
    )
    remaining = remaining_allowance(limit, committed)
    return Allowance(
        currency,
        rates.convert(limit, rule_currency, currency),
        shown_committed,
        rates.convert(remaining, rule_currency, currency),
        rule_currency,
        remaining,
        as_of,
        rates,
    )
