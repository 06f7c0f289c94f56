"""JSON schemas of the API's pledges: placing one, and a pledge as the API shows it (the
building blocks are in `schemas.py`)."""

from .schemas import BIG_ID, COUNT, ID, MONEY_OUT, PLEDGE_STATUS, STRING, TIME, line, nullable, obj

# --- pledges --------------------------------------------------------------------------------

ADDRESS = obj(
    {
        "name": line(200),
        "line1": line(200),
        "line2": line(200),
        "city": line(200),
        "postal_code": line(20),
        "country": line(2, description="ISO 3166-1 alpha-2"),
    },
    required=["name", "line1", "city", "postal_code", "country"],
)
PLEDGE_CREATE = obj(
    {
        "tier_id": nullable(ID),
        "quantity": {"type": "integer", "description": "Units of the tier (default 1)."},
        "amount": {"type": ["integer", "null"], "description": "Reward projects, no tier: the amount (minor units)."},
        "extra": {"type": "integer", "description": "Reward projects: an extra amount on top (minor units)."},
        "shares": {"type": ["integer", "null"], "description": "Equity projects: the number of shares."},
        "acknowledge_risks": {
            "type": "boolean",
            "description": "Equity projects: must be true. The investor confirms, for this commitment, "
            "that they may lose all the money invested and that the shares are hard "
            "to sell. Without it: 422 `risks_not_acknowledged`.",
        },
        "payment_method": line(100, description="A payment method id (sandbox: pm_card_visa, ...)."),
        "shipping_address": nullable(ADDRESS),
    },
    required=["payment_method"],
)
PLEDGE = obj(
    {
        "id": BIG_ID,
        "project_id": ID,
        "status": PLEDGE_STATUS,
        "amount": MONEY_OUT,
        "currency": STRING,
        "tier_id": nullable(ID),
        "quantity": COUNT,
        "shares": nullable(COUNT),
        "created_at": TIME,
        "failure_code": nullable(STRING),
        "cancel_until": {
            **nullable(TIME),
            "description": "Equity commitments held in escrow: the last moment the "
            "investor may cancel (`EQUITY_CANCEL_CUTOFF` before the "
            "deadline); null otherwise.",
        },
        "risks_acknowledged_at": {
            **nullable(TIME),
            "description": "Equity: when the investor acknowledged the risks of this commitment.",
        },
        "next_action": {
            **nullable(obj({"type": STRING, "url": nullable(STRING)}, required=["type", "url"])),
            "description": "While `status` is requires_action: what the backer must do. "
            "`redirect_to_url`: send them to `url` (their bank, Alipay); "
            "`wechat_pay_display_qr_code`: `url` shows the QR code to scan.",
        },
        "client_secret": {
            **nullable(STRING),
            "description": "With Stripe, while requires_action: for Stripe.js "
            "or a mobile SDK to complete the payment in your app.",
        },
    }
)
PLEDGE_LIST = obj({"items": {"type": "array", "items": PLEDGE}})
