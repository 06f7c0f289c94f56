"""JSON schemas of what the API takes and returns (OpenAPI 3.1 / JSON Schema 2020-12).

Request schemas are used twice: `parsing` checks each body's shape against them, and
`openapi` publishes them. Enumerations come from the services' own constants. Amounts are
integers in the currency's minor unit (cents, fen; JPY has none); times are ISO 8601 UTC.
"""

from ..domain.money import SUPPORTED_CURRENCIES
from ..models import PledgeStatus, ProjectKind, ProjectStatus
from ..payments.base import ACCOUNT_STATUSES
from ..services import discovery, reviews
from ..services.projects import basics, documents, equity_terms, tiers
from .parsing import MULTI_LINE, ONE_LINE
from .registry import BIGINT_MAX, INT_MAX


def obj(properties, required=None, *, additional=False, description=None):
    """An object schema; `required=None` means every property is required (responses)."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else list(required),
        "additionalProperties": additional,
    }
    if description:
        schema["description"] = description
    return schema


def nullable(schema):
    schema = dict(schema)
    kind = schema["type"]
    schema["type"] = [kind, "null"] if isinstance(kind, str) else list(kind) + ["null"]
    if "enum" in schema:
        schema["enum"] = list(schema["enum"]) + [None]
    return schema


STRING = {"type": "string"}


def line(longest, **extra):
    """Request text on one line, at most `longest` characters: no control characters. The bounds
    are the web forms' own (and the columns')."""
    return {"type": "string", "maxLength": longest, "pattern": ONE_LINE, **extra}


def lines(longest, **extra):
    """Request text of several lines (tabs and line breaks allowed), at most `longest` characters."""
    return {"type": "string", "maxLength": longest, "pattern": MULTI_LINE, **extra}


PASSWORD = {"type": "string", "maxLength": 256}  # as typed: only NUL is refused
EMAIL = line(254)
BOOLEAN = {"type": "boolean"}
INTEGER = {"type": "integer"}
COUNT = {"type": "integer", "minimum": 0}
ID = {"type": "integer", "minimum": 1, "maximum": INT_MAX}
BIG_ID = {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX}
MONEY = {"type": "integer", "description": "Minor units of the currency (cents, fen; JPY has none)."}
MONEY_OUT = {"type": "integer", "minimum": 0, "description": MONEY["description"]}
CURRENCY = {"type": "string", "enum": list(SUPPORTED_CURRENCIES), "description": "ISO 4217"}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC"}
KIND = {"type": "string", "enum": [k.value for k in ProjectKind]}
PROJECT_STATUS = {"type": "string", "enum": [s.value for s in ProjectStatus]}
PLEDGE_STATUS = {"type": "string", "enum": [s.value for s in PledgeStatus]}
CATEGORY = {"type": "string", "enum": list(basics.CATEGORIES)}
SHIPPING = {"type": "string", "enum": list(tiers.SHIPPING_KINDS)}
DOCUMENT_KIND = {"type": "string", "enum": list(documents.DOCUMENT_KINDS)}
RISK_GRADE = {"type": "string", "enum": list(reviews.RISK_GRADES)}

# --- errors ------------------------------------------------------------------------------

ERROR = obj(
    {
        "error": obj(
            {
                "code": {
                    "type": "string",
                    "pattern": "^[a-z0-9_]+$",
                    "description": "Stable, snake_case: validation_error, not_found, sold_out, ...",
                },
                "message": {"type": "string", "description": "For a person to read."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "What is wrong with each request field (dotted for nested ones).",
                },
                "decline_code": {"type": "string", "description": "402 only: the processor's reason."},
            },
            required=["code", "message", "fields"],
        ),
    }
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

# --- projects -------------------------------------------------------------------------------

EQUITY_TERMS = obj(
    {
        "security_type": {"type": "string", "enum": list(equity_terms.SECURITY_TYPES)},
        "price_per_share": MONEY,
        "shares_offered": INTEGER,
        "min_shares": INTEGER,
        "pre_money_valuation": MONEY,
        "shares_outstanding": INTEGER,
    },
    required=["price_per_share", "shares_offered", "min_shares", "pre_money_valuation", "shares_outstanding"],
)

_STORY = {
    "summary": line(300),
    "description": lines(50000, description="Markdown."),
    "risks": lines(50000),
    "use_of_funds": lines(50000),
}
PROJECT_CREATE = obj(
    {
        "firm_id": ID,
        "kind": KIND,
        "title": line(120),
        **_STORY,
        "category": CATEGORY,
        "currency": CURRENCY,
        "goal": MONEY,
        "duration_days": nullable(INTEGER),
        "equity": nullable(EQUITY_TERMS),
    },
    required=["firm_id", "kind", "title", "summary", "category", "currency", "goal"],
)
PROJECT_UPDATE = obj(
    {
        "title": line(120),
        **_STORY,
        "category": CATEGORY,
        "currency": CURRENCY,
        "goal": MONEY,
        "duration_days": nullable(INTEGER),
        "equity": EQUITY_TERMS,
    },
    required=[],
    description="Only the fields sent change. After approval only the story (summary, "
    "description, risks, use_of_funds) can change.",
)

TIER_CREATE = obj(
    {
        "title": line(120),
        "description": lines(5000),
        "price": MONEY,
        "quantity": {"type": ["integer", "null"], "description": "null: unlimited"},
        "per_backer_limit": nullable(INTEGER),
        "estimated_delivery": line(20, description="YYYY-MM"),
        "shipping": SHIPPING,
        "shipping_fee": MONEY,
    },
    required=["title", "price", "estimated_delivery"],
)
TIER = obj(
    {
        "id": ID,
        "title": STRING,
        "description": STRING,
        "price": MONEY_OUT,
        "quantity": nullable(COUNT),
        "remaining": nullable(COUNT),
        "per_backer_limit": nullable(COUNT),
        "estimated_delivery": nullable(STRING),
        "shipping": SHIPPING,
        "shipping_fee": MONEY_OUT,
    }
)
EQUITY = obj(
    {
        "security_type": STRING,
        "price_per_share": MONEY_OUT,
        "shares_offered": COUNT,
        "min_shares": COUNT,
        "pre_money_valuation": MONEY_OUT,
        "shares_outstanding": COUNT,
        "shares_remaining": COUNT,
    }
)
_SUMMARY_FIELDS = {
    "id": ID,
    "slug": STRING,
    "firm_id": ID,
    "title": STRING,
    "summary": STRING,
    "kind": KIND,
    "status": PROJECT_STATUS,
    "category": STRING,
    "currency": STRING,
    "goal": MONEY_OUT,
    "pledged": MONEY_OUT,
    "backers": COUNT,
    "deadline": nullable(TIME),
    "risk_grade": nullable(RISK_GRADE),
}
PROJECT_SUMMARY = obj(_SUMMARY_FIELDS)
PROJECT = obj(
    {
        **_SUMMARY_FIELDS,
        "description": STRING,
        "risks": STRING,
        "use_of_funds": STRING,
        "duration_days": nullable(COUNT),
        "launched_at": nullable(TIME),
        "created_at": TIME,
        "tiers": {"type": "array", "items": TIER},
        "equity": nullable(EQUITY),
        "end_reason": {
            **nullable(STRING),
            "description": "Cancelled or suspended campaigns: why, as the firm or the "
            "administrators wrote it; null otherwise.",
        },
    }
)
PROJECT_PAGE = obj(
    {
        "items": {"type": "array", "items": PROJECT_SUMMARY},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "total": COUNT,
    }
)
STATUS = obj({"id": ID, "status": PROJECT_STATUS})
LAUNCH = obj({"deadline": {**TIME, "maxLength": 64}})
LAUNCHED = obj({"id": ID, "status": PROJECT_STATUS, "deadline": TIME})
DOCUMENT_UPLOAD = obj(
    {"kind": DOCUMENT_KIND, "file": {"type": "string", "format": "binary"}},
    description="business_plan and financial_statements: PDF (equity projects); cover: JPEG, PNG, WebP or GIF.",
)
DOCUMENT = obj({"id": ID, "kind": DOCUMENT_KIND, "filename": STRING, "content_type": STRING, "size": COUNT})

REVIEW = obj(
    {
        "decision": {"type": "string", "enum": list(reviews.DECISIONS)},
        "note": lines(5000),
        "risk_grade": nullable(line(20)),
        "checklist": obj(
            {key: BOOLEAN for key in reviews.CHECKLIST},
            required=[],
            description="Approval needs every item that applies to the project's kind: "
            "financials_present applies to equity, rewards_feasible to reward projects.",
        ),
    },
    required=["decision"],
)

STATEMENT = obj(
    {
        "project_id": ID,
        "gross": MONEY_OUT,
        "cancelled": MONEY_OUT,
        "refunded": MONEY_OUT,
        "fee": MONEY_OUT,
        "paid_out": MONEY_OUT,
        "awaiting_payout": MONEY,
        "in_escrow": MONEY_OUT,
        "currency": STRING,  # below 0: the firm owes a chargeback
        "processor_fees": MONEY_OUT,
        "processor_fees_firm": MONEY_OUT,
        "processor_fees_paid_by": {"type": "string", "enum": ["platform", "firm"]},
        "reserved": MONEY_OUT,
        "reserved_until": nullable(TIME),
        "payout_due_at": nullable(TIME),
        "refunds_owed": MONEY_OUT,
        "disputed": MONEY_OUT,
    },
    description="gross - refunded - disputed = in_escrow + fee + processor_fees_firm + paid_out + awaiting_payout; "
    "`refunded` is all money returned to backers, of which `cancelled` was returned because backers "
    "cancelled. `processor_fees` is what the payment processor kept of the campaign's payments "
    "(it keeps its fee on refunds too); `processor_fees_firm` is the part the firm bore. "
    "`awaiting_payout` is what the firm is owed and not yet paid; `reserved` is the part of it held "
    "back against chargebacks until `reserved_until` (so reserved <= awaiting_payout). "
    "`payout_due_at` is when the payout (the firm's share minus the reserve) is sent; null until "
    "the campaign's money is released. `refunds_owed` is the part of `refunded` whose refund failed "
    "at the backer's bank and is being sent again. `disputed` is what the payment processor took "
    "back for backers who disputed their payment (chargebacks: open or lost disputes); taken after "
    "the firm was paid, the firm owes it until it is taken back from its account (awaiting_payout "
    "below 0 meanwhile).",
)

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

SEARCH_SORTS = list(discovery.SORTS)
