"""JSON schemas of the API's accounts: users, tokens, firms and their payout accounts, and an
investor's profile and holdings (the building blocks are in `schemas.py`)."""

from ..payments.base import ACCOUNT_STATUSES
from .schemas import (
    BOOLEAN,
    COUNT,
    CURRENCY,
    EMAIL,
    ID,
    MONEY,
    MONEY_OUT,
    PASSWORD,
    PROJECT_STATUS,
    STRING,
    TIME,
    line,
    lines,
    nullable,
    obj,
)

# --- accounts -------------------------------------------------------------------------------

USER_CREATE = obj(
    {
        "email": EMAIL,
        "password": PASSWORD,
        "name": line(120),
        "accept_terms": {
            "type": "boolean",
            "description": "Must be true: you accept the terms of use (/terms) and the "
            "privacy notice (/privacy). The version accepted is kept.",
        },
    },
    description="A mail with a link to confirm the address is sent. Until it is followed the "
    "account cannot pledge, invest or submit a project (403 `email_unverified`).",
)
USER = obj(
    {
        "id": ID,
        "email": STRING,
        "name": STRING,
        "is_admin": BOOLEAN,
        "email_verified": {
            "type": "boolean",
            "description": "The owner followed the link mailed to `email`. Until then "
            "pledging, investing and submitting a project answer 403 "
            "`email_unverified`.",
        },
    }
)
TOKEN_CREATE = obj(
    {
        "email": EMAIL,
        "password": PASSWORD,
        "otp": {
            "type": "string",
            "maxLength": 64,
            "description": "Accounts with two-factor authentication: the "
            "current code from the authenticator app, or an unused recovery code.",
        },
        "label": line(100, description="What the token is for (your note)."),
    },
    required=["email", "password"],
)
TOKEN = obj(
    {
        "token": {"type": "string", "description": "Shown once; send as `Authorization: Bearer <token>`."},
        "expires_at": TIME,
    }
)

# --- firms ----------------------------------------------------------------------------------

FIRM_CREATE = obj(
    {
        "name": line(200, description="The firm's legal name."),
        "registration_number": line(40),
        "country": line(2, description="ISO 3166-1 alpha-2, e.g. GB, CN."),
        "address": lines(1000),
        "website": nullable(line(300)),
        "description": lines(5000),
    },
    required=["name", "registration_number", "country", "address"],
    description="Where the firm is paid is not given here: POST /firms/{firm_id}/payout-account sets it up "
    "with the payment processor.",
)
FIRM_UPDATE = obj(
    {key: value for key, value in FIRM_CREATE["properties"].items()},
    required=[],
    description="Only the fields sent change. From the firm's first submission for review until "
    "every campaign of it is settled, `name`, `country` and `registration_number` "
    "are locked: changing them answers 409 `firm_locked` (an administrator approves "
    "such changes, on the web). Every change is logged.",
)
ACCOUNT_STATUS = {
    "type": "string",
    "enum": list(ACCOUNT_STATUSES),
    "description": "verified: the payment processor pays out to it; pending: its setup is not "
    "finished; restricted: the processor needs more from the firm.",
}
FIRM = obj(
    {
        "id": ID,
        "name": STRING,
        "registration_number": STRING,
        "country": STRING,
        "address": STRING,
        "website": nullable(STRING),
        "description": STRING,
        "locked": {
            "type": "boolean",
            "description": "Whether name, country, registration number and payout "
            "account are locked (campaigns in review, live or not "
            "yet settled).",
        },
        "payout_account": {
            **nullable(obj({"status": ACCOUNT_STATUS})),
            "description": "Where the money raised is paid; null until set up (only the "
            "firm's people and admins see it).",
        },
        "people": {
            "type": "array",
            "items": obj({"name": STRING, "role": STRING}),
            "description": "The people the firm names on its public profile (GET only).",
        },
        "campaigns": {
            "type": "array",
            "description": "Every campaign of the firm with a public page, the latest launched first (GET only).",
            "items": obj(
                {
                    "id": ID,
                    "slug": STRING,
                    "title": STRING,
                    "status": PROJECT_STATUS,
                    "currency": STRING,
                    "goal": MONEY_OUT,
                    "pledged": MONEY_OUT,
                    "backers": COUNT,
                    "launched_at": nullable(TIME),
                    "ended_at": nullable(TIME),
                }
            ),
        },
        "delivery": {
            **obj({"on_time": COUNT, "late": COUNT, "refunded": COUNT}),
            "description": "Rewards of its campaigns released on delivery: shipped on time, late (shipped, "
            "or still unshipped, DELIVERY_GRACE_DAYS after their estimated month), refunded (GET only).",
        },
    },
    required=["id", "name", "registration_number", "country", "address", "website", "description"],
)
PAYOUT_ACCOUNT_SETUP = obj(
    {
        "status": ACCOUNT_STATUS,
        "onboarding_url": {
            "type": "string",
            "description": "The payment processor's page where the firm's people finish the setup (single use).",
        },
    }
)


# --- investors ------------------------------------------------------------------------------

INVESTOR_PROFILE_UPDATE = obj(
    {
        "currency": {
            **CURRENCY,
            "description": "The currency of the amounts below; it must be the currency of the "
            "offerings you invest in (ISO 4217).",
        },
        "annual_income": MONEY,
        "net_worth": MONEY,
        "accredited": BOOLEAN,
        "other_investments_12m": {
            **MONEY,
            "description": "Invested on other crowdfunding platforms in the last 12 months (minor units).",
        },
        "risk_acknowledged": {"type": "boolean", "description": "Must be true."},
    },
    required=["currency", "annual_income", "net_worth", "other_investments_12m", "risk_acknowledged"],
)
INVESTOR_PROFILE = obj(
    {
        "currency": STRING,
        "annual_income": MONEY_OUT,
        "net_worth": MONEY_OUT,
        "accredited": BOOLEAN,
        "other_investments_12m": MONEY_OUT,
        "risk_acknowledged_at": nullable(TIME),
        "updated_at": TIME,
        "allowance": obj(
            {
                "limit": nullable(MONEY_OUT),
                "committed": MONEY_OUT,
                "remaining": nullable(MONEY_OUT),
                "rates_as_of": {
                    **nullable(STRING),
                    "description": "The date of the reference exchange rates "
                    "amounts were converted at (null: none was).",
                },
            },
            description="What you may still invest, shown in `currency`, over the 12-month window: every "
            "commitment counts whatever its currency, converted at the reference rates "
            "(null limit: accredited, no limit).",
        ),
    }
)
HOLDING = obj(
    {
        "firm_id": ID,
        "project_id": ID,
        "shares": COUNT,
        "price_per_share": MONEY_OUT,
        "currency": STRING,
        "acquired_at": TIME,
    }
)
HOLDING_LIST = obj({"items": {"type": "array", "items": HOLDING}})
