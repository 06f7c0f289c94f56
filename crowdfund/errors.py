"""Domain errors raised by services; views turn them into messages or JSON (`json_error`)."""

from flask import jsonify


class DomainError(Exception):
    """A request the platform refuses. `code` is stable; `message` speaks to a person."""

    code = "domain_error"
    status = 400

    def __init__(self, message, *, code=None, fields=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class ValidationError(DomainError):
    code = "validation_error"
    status = 422


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class IllegalTransition(Conflict):
    code = "illegal_transition"


class PaymentDeclined(DomainError):
    code = "card_declined"
    status = 402


# The API's error shape (crowdfund/api/errors.py), also what the web answers on an /api/ path.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    402: "card_declined",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "server_error",
}


def json_error(status, message, *, code=None, fields=None, decline_code=None, headers=None):
    body = {
        "error": {
            "code": code or STATUS_CODES.get(status, "error"),
            "message": str(message),
            "fields": {str(k): str(v) for k, v in (fields or {}).items()},
        }
    }
    if decline_code:
        body["error"]["decline_code"] = str(decline_code)
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="crowdfund"'
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response, status
