"""JSON API v1 at /api/v1: bearer tokens, JSON in and out, no logic of its own.

Every operation is declared once with `registry.operation` (route, access, input and
output schemas); `openapi.py` publishes the declarations. Handlers parse, call the same
services the web pages call, and serialise (`serializers.py`). Service errors
(DomainError) become `{"error": {...}}` with their own status and code.

The request commits once at its end like any other (`web/unit_of_work.py`); the pledge
service commits its own steps around the payment call, as it does for the web.
"""

from ..errors import DomainError
from . import (  # register the operations
    accounts,
    backing,  # noqa: F401  (registers its operations)
    changes,  # noqa: F401  (a campaign's changes after approval)
    comments,
    deliveries,  # noqa: F401  (release on delivery: shipments, receipts, problems)
    firms,
    investor_checks,  # noqa: F401  (eu_ecsp entry checks, cn qualification)
    material_changes,  # noqa: F401  (material changes, reconfirmation)
    notifications,  # noqa: F401  (updates, reminders, mail choices)
    openapi,
    projects,
    story_media,
    stretch_goals,
)
from .errors import ApiError, domain_error_response
from .registry import IdConverter, bp


@bp.errorhandler(ApiError)
def _api_error(error):
    return error.response()


@bp.errorhandler(DomainError)
def _domain_error(error):
    return domain_error_response(error)


def register_api(app):
    from ..extensions import csrf

    app.url_map.converters["api_id"] = IdConverter
    csrf.exempt(bp)
    app.register_blueprint(bp)
