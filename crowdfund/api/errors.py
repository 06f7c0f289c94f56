"""The API's error shape: {"error": {"code", "message", "fields"}}."""
from flask import jsonify

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 402: "card_declined", 403: "forbidden",
                404: "not_found", 405: "method_not_allowed", 409: "conflict", 413: "too_large",
                422: "validation_error", 429: "rate_limited", 500: "server_error"}


def json_error(status, message, *, code=None, fields=None):
    body = {"error": {"code": code or STATUS_CODES.get(status, "error"), "message": str(message),
                      "fields": fields or {}}}
    return jsonify(body), status
