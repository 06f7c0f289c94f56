"""Reference-rate conversion and the rulebook in force, from config (no database)."""

from datetime import date
from decimal import Decimal

import pytest

from crowdfund.domain import rulebooks
from crowdfund.domain.fx import ReferenceRates, UnknownRate

RATES = ReferenceRates.from_config(
    {"as_of": "2026-12-01", "per_usd": {"CNY": "7.0712", "JPY": "155.32", "EUR": "0.9452"}}
)


def test_amounts_convert_through_the_dollar_in_minor_units():
    assert RATES.convert(250_000, "USD", "CNY") == 1_767_800  # $2,500.00 = ¥17,678.00
    assert RATES.convert(250_000, "USD", "JPY") == 388_300  # yen have no minor units
    assert RATES.convert(388_300, "JPY", "USD") == 250_000
    assert RATES.convert(12_345, "EUR", "EUR") == 12_345


def test_rounding_is_the_callers_choice():
    # 1 fen is 0.1414... US cents: down for a limit, up for what counts against it.
    assert RATES.convert(1, "CNY", "USD") == 0
    assert RATES.convert(1, "CNY", "USD", round_up=True) == 1
    assert RATES.total({"CNY": 1, "JPY": 1}, "USD", round_up=True) == 2


def test_a_currency_without_a_rate_cannot_be_compared():
    with pytest.raises(UnknownRate):
        RATES.convert(100, "GBP", "USD")


def test_saved_rates_win_and_the_oldest_date_is_the_one_shown():
    newer = RATES.with_rates([("CNY", "7.2", date(2026, 12, 5)), ("GBP", "0.8", date(2026, 11, 30))])
    assert newer.rate("CNY") == Decimal("7.2") and newer.rate("EUR") == Decimal("0.9452")
    assert newer.as_of == date(2026, 11, 30)
    assert newer.rate("USD") == 1


def test_the_default_rulebook_is_reg_cf():
    book = rulebooks.from_config({})
    assert (book.key, book.currency, book.limit.floor, book.limit.cap) == ("us_reg_cf", "USD", 2_500, 124_000)
    assert book.equity_min_duration == 21 * 24 * 3600 and book.issuer_cap == 5_000_000
    assert book.progress_notices == (50, 100) and book.max_investors is None


@pytest.mark.parametrize(
    "key, currency, floor, cap, investors",
    [
        ("us_reg_cf", "USD", 2_500, 5_000_000, None),
        ("eu_ecsp", "EUR", 1_000, 5_000_000, None),
        ("cn", "CNY", 20_000, None, 200),
    ],
)
def test_each_rulebook_states_its_figures_in_its_own_currency(key, currency, floor, cap, investors):
    book = rulebooks.from_config({"INVESTOR_RULEBOOK": key})
    assert (book.currency, book.limit.floor, book.issuer_cap, book.max_investors) == (currency, floor, cap, investors)


def test_every_figure_can_be_overridden_and_zero_means_none():
    book = rulebooks.from_config(
        {
            "INVESTOR_RULEBOOK": "cn",
            "INVESTMENT_LIMIT_FLOOR": 5_000,
            "EQUITY_CAMPAIGN_MIN_DURATION": 3600,
            "MAX_INVESTORS_PER_OFFERING": 0,
            "ISSUER_CAP": 1_000_000,
            "PROGRESS_NOTICE_PERCENTS": [100, 25],
            "EARLY_CLOSE_NOTICE_DAYS": 3,
            "INVESTMENT_LIMIT_CURRENCY": "hkd",
        }
    )
    assert book.limit.floor == 5_000 and book.equity_min_duration == 3600 and book.max_investors is None
    assert book.issuer_cap == 1_000_000 and book.progress_notices == (25, 100) and book.currency == "HKD"
    assert book.early_close_notice_days == 3
    us = rulebooks.from_config({"MAX_INVESTORS_PER_OFFERING": 2})
    assert us.key == "us_reg_cf" and us.max_investors == 2  # applies under any rulebook when set


def test_an_unknown_rulebook_is_a_clear_configuration_error():
    with pytest.raises(rulebooks.UnknownRulebook, match="us_reg_cf, eu_ecsp, cn"):
        rulebooks.from_config({"INVESTOR_RULEBOOK": "moon"})


def test_a_mistyped_rulebook_stops_the_app_at_start():
    from crowdfund import create_app

    with pytest.raises(rulebooks.UnknownRulebook, match="'reg_cf'"):
        create_app("testing", INVESTOR_RULEBOOK="reg_cf", SQLALCHEMY_DATABASE_URI="sqlite://")
