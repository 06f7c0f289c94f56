"""Investor protection by rulebook: which rules a deployment's equity offerings follow.

`INVESTOR_RULEBOOK` picks one of RULEBOOKS; every figure of it can be overridden by its own
config key (None, the default, keeps the rulebook's figure). Amounts are MAJOR units of the
rulebook's own currency (USD, EUR, CNY); they are converted at the reference rates
(domain/fx.py) wherever an amount in another currency meets them.

- us_reg_cf: US Regulation Crowdfunding (17 CFR 227), as amended in 2021. The 12-month
  investment limit of 227.100(a)(2); offerings open at least 21 days (227.303(a)); an issuer
  raises at most $5M in 12 months (227.100(a)(1)); progress notices at 50% and 100% of the
  target (227.203(a)(3)).
- eu_ecsp: Regulation (EU) 2020/1503. The Regulation caps no investor's total; this
  rulebook's limit follows the loss-bearing capacity of Art. 21(4)(b): 10% of the greater
  of income and net worth, at least EUR 1,000, over 12 months. Issuer cap EUR 5M in 12 months (Art. 1(2)(c)).
  A commitment may be revoked without reason for 4 days after it is made (Art. 22(2)), even
  inside the usual cancel cut-off.
- cn: the 2015 Guiding Opinions on Internet finance and the Securities Law, which make an
  offering to more than 200 people a public offering (Art. 9): at most 200 investors per
  offering. Its limit is the platform's own: 10% of the greater of income and net worth,
  at least CNY 20,000, over 12 months.
"""

from dataclasses import dataclass, replace

from .investment_limits import LimitRule

DAY = 24 * 3600
# A threshold no one reaches: the limit is always the greater of the floor and the low rate.
ALWAYS = 10**12


@dataclass(frozen=True)
class Rulebook:
    key: str
    currency: str  # the currency its amounts are stated in
    limit: LimitRule  # the 12-month investment limit of a non-accredited investor
    equity_min_duration: int  # seconds an equity offering stays open at least
    issuer_cap: int | None  # major units a firm may raise over issuer_cap_window_days (None: no cap)
    issuer_cap_window_days: int
    progress_notices: tuple  # percentages of the target at which investors are told
    max_investors: int | None  # distinct investors an offering accepts (None: any number)
    early_close_notice_days: int  # business days between an early close's notice and its deadline
    reflection_period: int = 0  # seconds after a commitment during which it may be revoked, cut-off or not
    # Business days investors have to reconfirm a commitment after a material change to the
    # offering (Reg CF 227.304(c): five); not reconfirmed, it is cancelled and refunded.
    reconfirm_business_days: int = 5
    # EU ECSP Art. 21: the entry knowledge test and loss-bearing simulation of non-sophisticated
    # investors, renewed every `entry_checks_valid_days`; a warning to acknowledge for a project
    # above the greater of `large_investment_warning` (major units) and its share of net worth.
    entry_checks: bool = False
    entry_checks_valid_days: int = 730
    knowledge_test_pass_mark: int = 4  # right answers out of the test's questions
    loss_capacity_bps: int = 1_000  # the share of net worth shown as what one can bear to lose
    large_investment_warning: int | None = None
    large_investment_net_worth_bps: int = 500
    # cn: qualified investors only, by financial assets OR annual income (major units); None: no proof asked.
    qualified_financial_assets: int | None = None
    qualified_annual_income: int | None = None
    custodian_required: bool = False  # CUSTODIAN_NAME must be set (checked at start)


RULEBOOKS = {
    "us_reg_cf": Rulebook(
        key="us_reg_cf",
        currency="USD",
        limit=LimitRule(
            threshold=124_000, floor=2_500, low_rate_bps=500, high_rate_bps=1_000, cap=124_000, window_days=365
        ),
        equity_min_duration=21 * DAY,
        issuer_cap=5_000_000,
        issuer_cap_window_days=365,
        progress_notices=(50, 100),
        max_investors=None,
        early_close_notice_days=5,
    ),
    "eu_ecsp": Rulebook(
        key="eu_ecsp",
        currency="EUR",
        limit=LimitRule(
            threshold=ALWAYS, floor=1_000, low_rate_bps=1_000, high_rate_bps=1_000, cap=ALWAYS, window_days=365
        ),
        equity_min_duration=14 * DAY,
        issuer_cap=5_000_000,
        issuer_cap_window_days=365,
        progress_notices=(50, 100),
        max_investors=None,
        early_close_notice_days=5,
        reflection_period=4 * DAY,
        entry_checks=True,
        large_investment_warning=1_000,
    ),
    "cn": Rulebook(
        key="cn",
        currency="CNY",
        limit=LimitRule(
            threshold=ALWAYS, floor=20_000, low_rate_bps=1_000, high_rate_bps=1_000, cap=ALWAYS, window_days=365
        ),
        equity_min_duration=14 * DAY,
        issuer_cap=None,
        issuer_cap_window_days=365,
        progress_notices=(50, 100),
        max_investors=200,
        early_close_notice_days=5,
        # Qualified investors as the 2018 asset-management rules define them: financial assets of
        # at least CNY 3M, or an average annual income of at least CNY 500,000.
        qualified_financial_assets=3_000_000,
        qualified_annual_income=500_000,
        custodian_required=True,
    ),
}

# config key -> (where in the rulebook, how to read it)
LIMIT_KEYS = {
    "INVESTMENT_LIMIT_THRESHOLD": "threshold",
    "INVESTMENT_LIMIT_FLOOR": "floor",
    "INVESTMENT_LIMIT_LOW_RATE_BPS": "low_rate_bps",
    "INVESTMENT_LIMIT_HIGH_RATE_BPS": "high_rate_bps",
    "INVESTMENT_LIMIT_CAP": "cap",
    "INVESTMENT_LIMIT_WINDOW_DAYS": "window_days",
}
FIGURE_KEYS = {
    "INVESTMENT_LIMIT_CURRENCY": "currency",
    "EQUITY_CAMPAIGN_MIN_DURATION": "equity_min_duration",
    "ISSUER_CAP": "issuer_cap",
    "ISSUER_CAP_WINDOW_DAYS": "issuer_cap_window_days",
    "PROGRESS_NOTICE_PERCENTS": "progress_notices",
    "MAX_INVESTORS_PER_OFFERING": "max_investors",
    "EARLY_CLOSE_NOTICE_DAYS": "early_close_notice_days",
    "REFLECTION_PERIOD": "reflection_period",
    "RECONFIRM_BUSINESS_DAYS": "reconfirm_business_days",
    "INVESTOR_ENTRY_CHECKS": "entry_checks",
    "INVESTOR_CHECKS_VALID_DAYS": "entry_checks_valid_days",
    "KNOWLEDGE_TEST_PASS_MARK": "knowledge_test_pass_mark",
    "LOSS_BEARING_CAPACITY_BPS": "loss_capacity_bps",
    "LARGE_INVESTMENT_WARNING": "large_investment_warning",
    "LARGE_INVESTMENT_WARNING_NET_WORTH_BPS": "large_investment_net_worth_bps",
    "QUALIFIED_INVESTOR_FINANCIAL_ASSETS": "qualified_financial_assets",
    "QUALIFIED_INVESTOR_ANNUAL_INCOME": "qualified_annual_income",
}
# Figures where 0 means "none" (None keeps the rulebook's).
ZERO_MEANS_NONE = (
    "issuer_cap",
    "max_investors",
    "large_investment_warning",
    "qualified_financial_assets",
    "qualified_annual_income",
)


class UnknownRulebook(ValueError):
    pass


def from_config(config):
    """The rulebook in force: INVESTOR_RULEBOOK's, with every figure the config sets laid over it.

    ISSUER_CAP, MAX_INVESTORS_PER_OFFERING and the other ZERO_MEANS_NONE figures set to 0 mean
    "none" (None keeps the rulebook's)."""
    key = config.get("INVESTOR_RULEBOOK") or "us_reg_cf"
    try:
        rulebook = RULEBOOKS[key]
    except KeyError:
        raise UnknownRulebook(f"INVESTOR_RULEBOOK must be one of {', '.join(RULEBOOKS)}, not {key!r}") from None
    limit = {field: config[name] for name, field in LIMIT_KEYS.items() if config.get(name) is not None}
    figures = {field: config[name] for name, field in FIGURE_KEYS.items() if config.get(name) is not None}
    for field in ZERO_MEANS_NONE:
        if figures.get(field) == 0:
            figures[field] = None
    if "progress_notices" in figures:
        figures["progress_notices"] = tuple(sorted(int(p) for p in figures["progress_notices"]))
    if "currency" in figures:
        figures["currency"] = str(figures["currency"]).upper()
    return replace(rulebook, limit=replace(rulebook.limit, **limit), **figures)


def shortest_run(kind, config):
    """Seconds a campaign of `kind` ("reward" or "equity") runs at least: an equity offering's is
    its rulebook's, a reward campaign's CAMPAIGN_MIN_DURATION."""
    if kind == "equity":
        return from_config(config).equity_min_duration
    return config["CAMPAIGN_MIN_DURATION"]


class CustodianMissing(ValueError):
    pass


def require_custodian(config):
    """A rulebook whose investors' funds must sit with a custodian bank (cn) needs CUSTODIAN_NAME."""
    if from_config(config).custodian_required and not (config.get("CUSTODIAN_NAME") or "").strip():
        raise CustodianMissing("INVESTOR_RULEBOOK 'cn' needs CUSTODIAN_NAME: the bank that holds investors' funds")


def qualification_required(book):
    return book.qualified_financial_assets is not None or book.qualified_annual_income is not None
