"""JSON schemas of the API's pledges: placing one, and a pledge as the API shows it (the
building blocks are in `schemas.py`)."""

from .schemas import BIG_ID, BOOLEAN, COUNT, ID, MONEY_OUT, PLEDGE_STATUS, STRING, TIME, line, nullable, obj

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
ADD_ON_LINES = {
    "type": "array",
    "maxItems": 100,
    "items": obj({"id": ID, "quantity": {"type": "integer"}}, required=["id", "quantity"]),
    "description": "Reward pledges with a tier: add-on items of the campaign and how many of each.",
}
ADD_ON_LINES_OUT = {
    "type": "array",
    "items": obj({"id": ID, "title": STRING, "quantity": COUNT, "price": MONEY_OUT}),
}
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
        "acknowledge_large_investment": {
            "type": "boolean",
            "description": "Equity projects under the eu_ecsp rulebook: true when the investor has read "
            "the warning that this commitment takes what they invest in the project above the "
            "greater of `LARGE_INVESTMENT_WARNING` (EUR 1,000) and 5% of their net worth (converted "
            "at the reference rates). Needed only then; without it: 422 "
            "`large_investment_not_acknowledged` naming this field.",
        },
        "payment_method": line(100, description="A payment method id (sandbox: pm_card_visa, ...)."),
        "shipping_address": nullable(ADDRESS),
        "add_ons": ADD_ON_LINES,
    },
    required=["payment_method"],
)
PLEDGE_CHANGE = obj(
    {
        "tier_id": nullable(ID),
        "quantity": {"type": "integer", "description": "Units of the tier."},
        "add_ons": ADD_ON_LINES,
        "shipping_address": nullable(ADDRESS),
        "extra": {"type": "integer", "description": "The extra amount on top (minor units)."},
        "amount": {"type": ["integer", "null"], "description": "No tier: the amount (minor units)."},
        "payment_method": line(100, description="Pays a larger total (default: the pledge's own payment method)."),
    },
    required=[],
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
        "add_ons": ADD_ON_LINES_OUT,
        "reward_amount": MONEY_OUT,
        "add_ons_amount": MONEY_OUT,
        "shipping_fee": MONEY_OUT,
        "extra_amount": MONEY_OUT,
        "shipping_address": {**nullable(obj(dict(ADDRESS["properties"]))), "description": "Where it ships."},
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
        "reconfirm_by": {
            **nullable(TIME),
            "description": "Equity, after a material change to the offering: the commitment stands only if "
            "the investor reconfirms it by then (POST /pledges/{pledge_id}/reconfirm); otherwise it is "
            "cancelled and refunded. Null when nothing waits.",
        },
        "reconfirmed_at": {
            **nullable(TIME),
            "description": "Equity: when the investor last reconfirmed this commitment after a material change.",
        },
        "large_investment_acknowledged_at": {
            **nullable(TIME),
            "description": "Equity (eu_ecsp): when the investor acknowledged the large-investment "
            "warning for this commitment; null when none was needed.",
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
# Release on delivery: the pledge's reward and the part of its money held until it arrives.
DELIVERY = obj(
    {
        "status": {
            "type": "string",
            "enum": ["awaiting_shipment", "shipped", "problem", "refunding", "released", "refunded", "disputed"],
        },
        "held_amount": MONEY_OUT,
        "currency": STRING,
        "carrier": nullable(STRING),
        "tracking": nullable(STRING),
        "shipped_at": nullable(TIME),
        "confirm_by": {
            **nullable(TIME),
            "description": "Shipped: unless the backer confirms or reports a problem first, the reward "
            "counts as received at this moment (DELIVERY_CONFIRM_DAYS after shipping).",
        },
        "problem_reason": nullable(STRING),
        "late": BOOLEAN,
    }
)
PLEDGE["properties"]["delivery"] = {
    **nullable(DELIVERY),
    "description": "Reward pledges of campaigns released on delivery, once released: where the reward is "
    "and what is still held for it; null otherwise.",
}
PLEDGE["required"].append("delivery")
PLEDGE_LIST = obj({"items": {"type": "array", "items": PLEDGE}})
# PATCH /pledges/{id}: the pledge, and while a larger total waits for the backer, that change.
CHANGE_WAITING = obj(
    {
        "number": {**COUNT, "description": "The change's number on this pledge (1, 2, ...)."},
        "status": {"type": "string", "enum": ["requires_action"]},
        "next_action": {
            **PLEDGE["properties"]["next_action"],
            "description": "What the backer must do to pay the new total: `redirect_to_url`: send them to "
            "`url` (their bank, Alipay); `wechat_pay_display_qr_code`: `url` shows the QR code to scan.",
        },
        "client_secret": PLEDGE["properties"]["client_secret"],
    }
)
PLEDGE_CHANGED = {
    **PLEDGE,
    "properties": {
        **PLEDGE["properties"],
        "change": {
            **CHANGE_WAITING,
            "description": "Only with the 202 answer: the change waits for the backer to confirm its "
            "payment; the pledge is shown as it was until the payment succeeds.",
        },
    },
    "required": list(PLEDGE["required"]),
}
