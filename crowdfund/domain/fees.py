"""The platform fee.

Rule: the fee on each pledge is `amount * PLATFORM_FEE_BPS / 10000`, rounded DOWN to the
currency's minor unit; the firm gets the rest. So fee + net == amount for every pledge,
to the cent, and any fraction of a minor unit always goes to the firm.
"""


def split_fee(amount, bps):
    """(net, fee) for a gross `amount` in minor units at `bps` basis points."""
    if type(amount) is not int or amount <= 0:
        raise ValueError(f"amount must be a positive whole number of minor units, not {amount!r}")
    if type(bps) is not int or not 0 <= bps < 10_000:
        raise ValueError(f"the fee must be from 0 to 9999 basis points, not {bps!r}")
    fee = amount * bps // 10_000
    return amount - fee, fee
