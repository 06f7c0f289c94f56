"""The OpenAPI 3.1 document, built from the operations' own declarations (`registry`)."""

from http import HTTPStatus

from . import schemas as S
from .registry import OPERATIONS, id_maximum, operation

INFO = {
    "title": "Crowdfund API",
    "version": "1.0.0",
    "description": (
        "JSON in and out. Amounts are integers in the currency's minor unit (cents, fen; JPY has none) "
        "with an ISO 4217 `currency`; times are ISO 8601 in UTC. Authenticate with "
        "`Authorization: Bearer <token>` (POST /tokens). Errors are "
        '`{"error": {"code", "message", "fields"}}` with the HTTP status: 400 malformed request, '
        "401 no or bad token, 402 card declined, 403 not allowed, 404 not found (or not yours to see), "
        "409 conflict (sold out, wrong state, campaign not live, already registered), 422 validation, "
        "429 too many attempts."
    ),
}
ERROR_DESCRIPTIONS = {
    400: "The request is malformed (not a JSON object, nested too deeply, not multipart).",
    401: "No token, or a token that is unknown, expired or revoked.",
    402: "The card was declined (`code` card_declined; `decline_code` says why).",
    403: "Not allowed for this account.",
    404: "No such resource, or not one you may see.",
    409: "Conflict: sold out, wrong state, campaign not live, already registered, firm details locked, "
    "payout account not ready.",
    413: "The upload or the request body is too large.",
    422: "Validation failed; `fields` says what is wrong with each field.",
    429: "Too many attempts; wait and try again.",
    503: "The payment processor could not be reached; try again later.",
}


def _response(status, schema, description):
    response = {"description": description}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    return response


def _operation(op):
    doc = {"operationId": op.endpoint.split(".", 1)[1], "summary": op.summary, "tags": [op.tag]}
    if op.description:
        doc["description"] = op.description
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": id_maximum(name)},
        }
        for name in op.path_params
    ]
    for param in op.query:
        parameters.append(
            {
                "name": param.name,
                "in": "query",
                "required": param.required,
                "schema": param.schema,
                **({"description": param.description} if param.description else {}),
            }
        )
    for param in op.headers:
        parameters.append(
            {
                "name": param.name,
                "in": "header",
                "required": param.required,
                "schema": param.schema,
                **({"description": param.description} if param.description else {}),
            }
        )
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
    if op.multipart is not None:
        doc["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": op.multipart}}}
    if op.access in ("user", "admin"):
        doc["security"] = [{"bearerAuth": []}]
    elif op.access == "optional":
        doc["security"] = [{}, {"bearerAuth": []}]
    else:
        doc["security"] = []
    responses = {str(op.status): _response(op.status, op.response, HTTPStatus(op.status).phrase)}
    for status, description in op.also.items():
        responses[str(status)] = _response(status, op.response, description)
    for status in op.errors:
        headers = {}
        if status == 401:
            headers["WWW-Authenticate"] = {"schema": {"type": "string"}}
        response = _response(status, {"$ref": "#/components/schemas/Error"}, ERROR_DESCRIPTIONS[status])
        if headers:
            response["headers"] = headers
        responses[str(status)] = response
    doc["responses"] = responses
    return doc


def build():
    paths = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": S.ERROR},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A token from POST /tokens."}
            },
        },
    }


@operation("GET", "/openapi.json", tag="meta", access="public", summary="This document", response={"type": "object"})
def openapi_document(call):
    return build()
