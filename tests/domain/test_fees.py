import pytest

from crowdfund.domain.fees import split_fee


@pytest.mark.parametrize(
    "amount,bps,expected",
    [
        (2500, 500, (2375, 125)),
        (1999, 500, (1900, 99)),  # 99.95 rounds down: the firm keeps the fraction
        (19, 500, (19, 0)),  # too small to carry a fee
        (100, 0, (100, 0)),
        (1, 9999, (1, 0)),
    ],
)
def test_fee_is_rounded_down_and_the_parts_add_up(amount, bps, expected):
    assert split_fee(amount, bps) == expected


def test_parts_always_add_up_to_the_gross():
    for amount in range(1, 5000, 7):
        for bps in (0, 1, 250, 500, 999, 1234):
            net, fee = split_fee(amount, bps)
            assert net + fee == amount and 0 <= fee <= amount * bps / 10_000 < fee + 1


@pytest.mark.parametrize("amount,bps", [(0, 500), (-5, 500), (10.5, 500), (100, -1), (100, 10_000)])
def test_nonsense_is_refused(amount, bps):
    with pytest.raises(ValueError):
        split_fee(amount, bps)
