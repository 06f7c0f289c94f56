"""Investor profiles and the 12-month investment limit for equity commitments."""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import func, select

from ..domain.investment_limits import LimitRule, annual_limit, remaining_allowance
from ..domain.money import SUPPORTED_CURRENCIES, format_money, max_minor
from ..errors import ValidationError
from ..extensions import db
from ..models import InvestorProfile, Pledge, utcnow
from ..models.pledge import PledgeStatus as PS
from . import use_case

# Equity commitments that count against the limit: still in flight, in escrow, or completed.
COUNTED_STATUSES = (PS.PENDING.value, PS.REQUIRES_ACTION.value, PS.HELD.value, PS.RELEASED.value)


def get_profile(user):
    return db.session.scalar(select(InvestorProfile).where(InvestorProfile.user_id == user.id))


def is_complete(profile):
    return profile is not None and profile.risk_acknowledged_at is not None


# Per amount: (missing, not whole, negative, too large).
AMOUNT_MESSAGES = {
    "annual_income": (_l("Enter your annual income (0 if none)."), _l("Enter your annual income as a whole amount."),
                      _l("Your annual income cannot be negative."), _l("That annual income is too large.")),
    "net_worth": (_l("Enter your net worth (0 if none)."), _l("Enter your net worth as a whole amount."),
                  _l("Your net worth cannot be negative."), _l("That net worth is too large.")),
    "other_investments_12m": (
        _l("Enter your investments on other platforms (0 if none)."),
        _l("Enter your investments on other platforms as a whole amount."),
        _l("Your investments on other platforms cannot be negative."),
        _l("That amount of investments on other platforms is too large.")),
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
        errors["risk_acknowledged"] = _("Please confirm that you understand the risks: you may lose all the money "
                                        "you invest, and shares in a small firm are hard to sell.")
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
    currency: str
    limit: int | None  # None: accredited, no limit
    committed: int  # on this platform in the window, plus other platforms
    remaining: int | None

    def describe(self):
        if self.limit is None:
            return _("As an accredited investor you have no 12-month limit.")
        locale = str(get_locale() or "en")
        return _("You can invest %(remaining)s more in the next 12 months (your limit is %(limit)s; "
                 "%(committed)s already counts against it).",
                 remaining=format_money(self.remaining, self.currency, locale=locale),
                 limit=format_money(self.limit, self.currency, locale=locale),
                 committed=format_money(self.committed, self.currency, locale=locale))


def committed_in_window(user, currency, *, now=None):
    """Equity committed on this platform by `user` in `currency` over the limit window."""
    rule = LimitRule.from_config(current_app.config)
    since = (now or utcnow()) - timedelta(days=rule.window_days)
    return int(db.session.scalar(select(func.coalesce(func.sum(Pledge.amount), 0)).where(
        Pledge.backer_id == user.id, Pledge.shares.is_not(None), Pledge.currency == currency,
        Pledge.status.in_(COUNTED_STATUSES), Pledge.created_at >= since)))


def allowance(user, profile, currency, *, now=None):
    """What `user` may still commit in `currency`. The profile must be in that currency."""
    committed = committed_in_window(user, currency, now=now) + profile.other_investments_12m
    if profile.accredited:
        return Allowance(currency, None, committed, None)
    rule = LimitRule.from_config(current_app.config)
    limit = annual_limit(profile.annual_income, profile.net_worth, currency, rule)
    return Allowance(currency, limit, committed, remaining_allowance(limit, committed))
