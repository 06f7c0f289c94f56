"""Domain errors raised by services; views turn them into messages or JSON."""


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
