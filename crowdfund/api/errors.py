"""The API's error shape: {"error": {"code", "message", "fields"}}.

`code` is a stable snake_case word a program can branch on; `message` speaks to a person;
`fields` maps request fields (dotted for nested ones, e.g. "equity.price_per_share") to
what is wrong with each. Declined payments (402) add `decline_code`, the processor's
reason ("insufficient_funds", ...), while `code` stays "card_declined". `json_error` builds
it (crowdfund/errors.py, where the web finds it too).
"""

from contextlib import contextmanager

from ..errors import STATUS_CODES, DomainError, json_error


class ApiError(Exception):
    """A refusal decided while reading the request (authentication, malformed JSON)."""

    def __init__(self, status, message, *, code=None, fields=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or STATUS_CODES.get(status, "error")
        self.fields = fields or {}

    def response(self):
        return json_error(self.status, self.message, code=self.code, fields=self.fields)


def domain_error_response(error, renames=None):
    """A service's DomainError as JSON, with its own status and code.

    `renames` maps service field names to the API's (e.g. legal_name -> name).
    """
    fields = {(renames or {}).get(key, key): value for key, value in (error.fields or {}).items()}
    if error.status == 402:
        return json_error(402, error.message, code="card_declined", fields=fields, decline_code=error.code)
    return json_error(error.status, error.message, code=error.code, fields=fields)


@contextmanager
def field_names(renames):
    """Report a service's field names as the API's (e.g. {"legal_name": "name"})."""
    try:
        yield
    except DomainError as error:
        error.fields = {renames.get(key, key): value for key, value in (error.fields or {}).items()}
        raise
