"""Investor profiles and the 12-month investment limit for equity commitments."""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..domain.investment_limits import LimitRule, annual_limit, remaining_allowance
from ..domain.money import SUPPORTED_CURRENCIES, format_money, max_minor
from ..errors import ValidationError
from ..extensions import db
from ..models import InvestorProfile, Pledge, utcnow
from ..models.pledge import PledgeStatus as PS
from . import use_case

# Equity commitments that count against the limit: still in flight, in escrow, or completed.
COUNTED_STATUSES = (PS.PENDING.value, PS.HELD.value, PS.RELEASED.value)


def get_profile(user):
    return db.session.scalar(select(InvestorProfile).where(InvestorProfile.user_id == user.id))


def is_complete(profile):
    return profile is not None and profile.risk_acknowledged_at is not None


def _amount(data, name, label, currency, errors):
    value = data.get(name)
    if value is None or value == "":
        errors[name] = f"Enter your {label} (0 if none)."
        return 0
    if type(value) is not int:
        errors[name] = f"Enter your {label} as a whole amount."
        return 0
    if value < 0:
        errors[name] = f"Your {label} cannot be negative."
    elif currency in SUPPORTED_CURRENCIES and value > max_minor(currency):
        errors[name] = f"That {label} is too large."
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
        errors["currency"] = "Choose the currency of your income and net worth."
    income = _amount(data, "annual_income", "annual income", currency, errors)
    net_worth = _amount(data, "net_worth", "net worth", currency, errors)
    other = _amount(data, "other_investments_12m", "investments on other platforms", currency, errors)
    if not data.get("risk_acknowledged"):
        errors["risk_acknowledged"] = ("Please confirm that you understand the risks: you may lose all the money "
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
            return "As an accredited investor you have no 12-month limit."
        return (f"You can invest {format_money(self.remaining, self.currency)} more in the next 12 months "
                f"(your limit is {format_money(self.limit, self.currency)}; "
                f"{format_money(self.committed, self.currency)} already counts against it).")


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
