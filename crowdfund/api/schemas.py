"""JSON schemas of what the API takes and returns (OpenAPI 3.1 / JSON Schema 2020-12): the
building blocks and the error; the requests and responses are in `account_schemas`,
`project_schemas` and `pledge_schemas`.

Request schemas are used twice: `parsing` checks each body's shape against them, and
`openapi` publishes them. Enumerations come from the services' own constants. Amounts are
integers in the currency's minor unit (cents, fen; JPY has none); times are ISO 8601 UTC.
"""

from ..domain.money import SUPPORTED_CURRENCIES
from ..models import PledgeStatus, ProjectKind, ProjectStatus
from ..services import reviews
from ..services.projects import basics, documents, tiers
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
