"""How much a non-accredited investor may commit to equity campaigns over 12 months.

The default rule is US Regulation Crowdfunding (17 CFR 227.100(a)(2), as amended in 2021):

  * if annual income OR net worth is below $124,000: the greater of $2,500 or 5% of the
    greater of annual income and net worth;
  * otherwise: 10% of the greater of annual income and net worth, never above $124,000.

Every number is configurable (config keys INVESTMENT_LIMIT_*, laid over the rulebook's own
figures: domain/rulebooks.py). Thresholds are written in
MAJOR units of a currency and scaled here by that currency's exponent, so the same rule
means 124,000.00 in USD (12,400,000 cents) and ¥124,000 in JPY (124,000 minor units).
Percentages are basis points and round down, in the investor's favour.
"""

from dataclasses import dataclass

from .money import exponent


@dataclass(frozen=True)
class LimitRule:
    threshold: int = 124_000  # major units
    floor: int = 2_500  # major units
    low_rate_bps: int = 500
    high_rate_bps: int = 1_000
    cap: int = 124_000  # major units
    window_days: int = 365


def major_to_minor(major, currency):
    return int(major) * 10 ** exponent(currency)


def annual_limit(annual_income, net_worth, currency, rule=LimitRule()):
    """The 12-month limit in minor units of `currency` (income and net worth in the same units)."""
    if annual_income < 0 or net_worth < 0:
        raise ValueError("Income and net worth cannot be negative.")
    threshold = major_to_minor(rule.threshold, currency)
    greater = max(annual_income, net_worth)
    if annual_income < threshold or net_worth < threshold:
        return max(major_to_minor(rule.floor, currency), greater * rule.low_rate_bps // 10_000)
    return min(greater * rule.high_rate_bps // 10_000, major_to_minor(rule.cap, currency))


def remaining_allowance(limit, already_committed):
    """What is left of `limit`, never below zero."""
    return max(limit - already_committed, 0)
