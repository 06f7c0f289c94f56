import pytest

from crowdfund.domain.investment_limits import LimitRule, annual_limit, major_to_minor, remaining_allowance


def usd(major):
    return major * 100


@pytest.mark.parametrize(
    "income, net_worth, limit",
    [
        (20_000, 10_000, 2_500),  # 5% would be $1,000: the $2,500 floor
        (50_000, 30_000, 2_500),  # 5% of $50,000 is exactly the floor
        (100_000, 50_000, 5_000),  # 5% of the greater
        (100_000, 500_000, 25_000),  # income below the threshold: still 5%, of the greater
        (123_999, 124_000, 6_200),  # one below the threshold: 5% of $124,000
        (124_000, 124_000, 12_400),  # both at the threshold: 10%
        (200_000, 150_000, 20_000),  # 10% of the greater
        (1_240_000, 0, 62_000),  # net worth below: 5% branch
        (1_240_000, 1_240_000, 124_000),  # 10% is exactly the cap
        (2_000_000, 3_000_000, 124_000),  # capped
    ],
)
def test_reg_cf_limits_in_dollars(income, net_worth, limit):
    assert annual_limit(usd(income), usd(net_worth), "USD") == usd(limit)


def test_thresholds_are_major_units_scaled_by_the_currency_exponent():
    assert major_to_minor(124_000, "USD") == 12_400_000
    assert major_to_minor(124_000, "JPY") == 124_000
    assert annual_limit(10_000_000, 20_000_000, "JPY") == 124_000  # ¥: capped at 124,000 yen
    assert annual_limit(100_000, 0, "JPY") == 5_000  # 5% of ¥100,000, above the ¥2,500 floor
    assert annual_limit(usd(100_000), usd(50_000), "CNY") == usd(5_000)  # fen, like cents


def test_percentages_round_down_in_the_investors_favour():
    assert annual_limit(usd(124_000) + 9, usd(124_000), "USD") == usd(12_400)  # 10% of 0.09 is lost


def test_a_custom_rule():
    rule = LimitRule(threshold=100_000, floor=1_000, low_rate_bps=200, high_rate_bps=500, cap=50_000)
    assert annual_limit(usd(40_000), usd(40_000), "USD", rule) == usd(1_000)
    assert annual_limit(usd(200_000), usd(100_000), "USD", rule) == usd(10_000)
    assert annual_limit(usd(5_000_000), usd(100_000), "USD", rule) == usd(50_000)


def test_negative_inputs_are_refused_and_the_allowance_never_goes_below_zero():
    with pytest.raises(ValueError):
        annual_limit(-1, 0, "USD")
    assert remaining_allowance(500, 700) == 0
    assert remaining_allowance(500, 200) == 300
