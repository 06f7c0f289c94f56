"""Bearer-token authentication for the API. Cookies and sessions play no part here, so
the API needs no CSRF protection: a browser never sends the token on its own."""

from flask import request

from ..services import api_tokens, reviews, two_factor
from .errors import ApiError


def bearer_token():
    """The token in `Authorization: Bearer <token>`; None when there is no such header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "Send your token as “Authorization: Bearer <token>”.", code="invalid_token")
    return value.strip()


def authenticate(access):
    """(user, token) for this request, by the operation's access level:

    public   the token is not looked at;
    optional a valid token identifies the caller, none means anonymous, a bad one is refused;
    user     a valid token is required;
    admin    a valid token of an administrator is required.
    """
    if access == "public":
        return None, None
    raw = bearer_token()
    if raw is None:
        if access == "optional":
            return None, None
        raise ApiError(401, "Sign in first: send a bearer token from POST /api/v1/tokens.", code="unauthorized")
    token = api_tokens.find_token(raw)
    if token is None:
        raise ApiError(401, "This token is not valid: it is unknown, expired or revoked.", code="invalid_token")
    if token.user.suspended_at is not None:
        raise ApiError(403, "This account is suspended: its tokens cannot be used.", code="account_suspended")
    if access == "admin":
        reviews.require_admin(token.user)
        if two_factor.must_enrol(token.user):
            raise ApiError(
                403,
                "Administrators need two-factor authentication: turn it on at /account/2fa, "
                "then ask for a new token with its code.",
                code="two_factor_required",
            )
    return token.user, token
