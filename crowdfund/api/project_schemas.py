"""JSON schemas of the API's projects: campaigns, their tiers, equity terms, documents,
reviews and statements (the building blocks are in `schemas.py`)."""

from ..services import discovery, reviews
from ..services.projects import equity_terms
from .schemas import (
    BOOLEAN,
    CATEGORY,
    COUNT,
    CURRENCY,
    DOCUMENT_KIND,
    ID,
    INTEGER,
    KIND,
    MONEY,
    MONEY_OUT,
    PROJECT_STATUS,
    RISK_GRADE,
    SHIPPING,
    STRING,
    TIME,
    line,
    lines,
    nullable,
    obj,
)

# --- projects -------------------------------------------------------------------------------

FUNDING_MODEL = {
    "type": "string",
    "enum": ["all_or_nothing", "flexible"],
    "description": "all_or_nothing (default): the firm is paid only if the goal is met by the deadline. "
    "flexible (reward campaigns only): the firm keeps what is raised even below the goal.",
}
RELEASE_MODEL = {
    "type": "string",
    "enum": ["at_success", "on_delivery"],
    "description": "at_success (default): the firm is paid everything when the campaign succeeds. "
    "on_delivery (reward campaigns only): RELEASE_AT_SUCCESS_BPS of the net is paid at success; the "
    "rest is held per pledge until the backer confirms the reward arrived (or DELIVERY_CONFIRM_DAYS "
    "after it shipped pass without a reported problem).",
}
STRETCH_GOAL_CREATE = obj(
    {"amount": MONEY, "title": line(120), "description": lines(5000)},
    required=["amount", "title"],
    description="`amount`: the total raised (minor units) that unlocks it, above the campaign's goal.",
)
STRETCH_GOAL = obj(
    {
        "id": ID,
        "amount": MONEY_OUT,
        "title": STRING,
        "description": STRING,
        "reached": BOOLEAN,
        "reached_at": nullable(TIME),
    }
)
STRETCH_GOALS = {"type": "array", "items": STRETCH_GOAL}

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
        "funding_model": FUNDING_MODEL,
        "release_model": RELEASE_MODEL,
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
        "funding_model": FUNDING_MODEL,
        "release_model": RELEASE_MODEL,
        "equity": EQUITY_TERMS,
    },
    required=[],
    description="Only the fields sent change. After approval only the story (summary, "
    "description, risks, use_of_funds) can change.",
)

SHIPPING_RATES_IN = {
    "type": ["array", "null"],
    "maxItems": 300,
    "items": obj({"to": line(20), "fee": {"type": ["integer", "null"]}}, required=["to"]),
    "description": "Fees per destination: `to` is `domestic` (the firm's country), a region (eu, europe, "
    "north_america, east_asia, southeast_asia, oceania), an ISO 3166-1 country code or `rest_of_world`; "
    '`fee` in minor units, null for "does not ship there". The most precise destination wins; with '
    "rates, a destination none of them names is not shipped to.",
}
SHIPPING_RATES_OUT = {
    "type": "array",
    "items": obj({"to": STRING, "fee": {"type": ["integer", "null"]}}),
}
ADD_ON_CREATE = obj(
    {
        "title": line(120),
        "description": lines(5000),
        "price": MONEY,
        "quantity": {"type": ["integer", "null"], "description": "null: unlimited"},
        "shipping": SHIPPING,
        "shipping_fee": MONEY,
        "shipping_rates": SHIPPING_RATES_IN,
    },
    required=["title", "price"],
)
ADD_ON_UPDATE = obj(ADD_ON_CREATE["properties"], required=[])  # what is left out stays as it is
ADD_ON = obj(
    {
        "id": ID,
        "title": STRING,
        "description": STRING,
        "price": MONEY_OUT,
        "quantity": nullable(COUNT),
        "remaining": nullable(COUNT),
        "shipping": SHIPPING,
        "shipping_fee": MONEY_OUT,
        "shipping_rates": SHIPPING_RATES_OUT,
    }
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
        "shipping_rates": SHIPPING_RATES_IN,
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
        "shipping_rates": SHIPPING_RATES_OUT,
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
    "funding_model": FUNDING_MODEL,
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
        "release_model": RELEASE_MODEL,
        "tiers": {"type": "array", "items": TIER},
        "add_ons": {"type": "array", "items": ADD_ON},
        "stretch_goals": STRETCH_GOALS,
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
        "custodian": {
            **nullable(STRING),
            "description": "The custodian bank that holds the funds (`CUSTODIAN_NAME`); null when none is set.",
        },
        "reserved": MONEY_OUT,
        "reserved_until": nullable(TIME),
        "payout_due_at": nullable(TIME),
        "refunds_owed": MONEY_OUT,
        "disputed": MONEY_OUT,
        "funding_model": FUNDING_MODEL,
        "goal_met": BOOLEAN,
        "held_for_delivery": MONEY_OUT,
    },
    description="gross - refunded - disputed = in_escrow + held_for_delivery + fee + processor_fees_firm + "
    "paid_out + awaiting_payout; `held_for_delivery` is what a campaign released on delivery still holds "
    "until backers' rewards are delivered; "
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
    "below 0 meanwhile). `goal_met` false with `funding_model` flexible and money paid out: the "
    "campaign ended below its goal and the firm kept what was raised.",
)


SEARCH_SORTS = list(discovery.SORTS)
