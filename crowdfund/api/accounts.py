"""Accounts, tokens, firms and the caller's own things (/me/...)."""

from flask import current_app, request

from ..errors import NotFound
from ..services import accounts, api_tokens, firms, investors, statements
from . import account_schemas as S, serializers
from .errors import field_names
from .registry import operation


def _request_locale():
    """The language the caller's Accept-Language prefers among ours (for the confirmation mail)."""
    return request.accept_languages.best_match(current_app.config["LANGUAGES"])


def _login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


@operation(
    "POST",
    "/users",
    tag="accounts",
    access="public",
    summary="Create an account",
    body=S.USER_CREATE,
    status=201,
    response=S.USER,
    errors=(409,),
)
def create_user(call):
    user = accounts.sign_up(
        call.body["email"],
        call.body["password"],
        call.body["name"],
        accept_terms=call.body["accept_terms"],
        page_locale=_request_locale(),
    )
    return serializers.user(user)


@operation(
    "POST",
    "/tokens",
    tag="accounts",
    access="public",
    summary="Get a bearer token",
    description="Send the token as `Authorization: Bearer <token>`. It lives `API_TOKEN_TTL` seconds "
    "(30 days by default) unless revoked. An account with two-factor authentication also "
    "sends `otp`: without it the answer is 401 `otp_required`, with a wrong one 401 "
    "`invalid_otp`. Rate-limited like web logins, with the same budgets: per client address "
    "(`RATELIMIT_LOGIN`) and failed attempts per account (`RATELIMIT_LOGIN_ACCOUNT`).",
    body=S.TOKEN_CREATE,
    status=201,
    response=S.TOKEN,
    errors=(401, 403, 429),
    limit=_login_limit,
    limit_scope="sign-in",
)
def create_token(call):
    raw, token = api_tokens.issue_token(
        call.body["email"], call.body["password"], otp=call.body.get("otp"), label=call.body.get("label")
    )
    return {"token": raw, "expires_at": serializers.iso(token.expires_at)}


@operation("DELETE", "/tokens/current", tag="accounts", summary="Revoke the token of this request", status=204)
def revoke_token(call):
    api_tokens.revoke_token(call.token)


@operation("GET", "/me", tag="accounts", summary="Who the token belongs to", response=S.USER)
def me(call):
    return serializers.user(call.user)


@operation(
    "POST",
    "/firms",
    tag="firms",
    summary="Register a firm (you become its owner)",
    body=S.FIRM_CREATE,
    status=201,
    response=S.FIRM,
    errors=(409,),
)
def create_firm(call):
    data = {key: value for key, value in call.body.items() if key != "name"}
    data["legal_name"] = call.body["name"]
    with field_names({"legal_name": "name"}):
        firm = firms.register_firm(call.user, data)
    return serializers.firm(firm, locked=False, payout_status=None)  # new: no campaign, no account yet


def _profile_body(user, profile):
    return serializers.investor_profile(profile, investors.allowance(user, profile, profile.currency))


@operation(
    "GET",
    "/me/investor-profile",
    tag="investing",
    summary="Your investor profile and remaining limit",
    response=S.INVESTOR_PROFILE,
    errors=(404,),
)
def get_investor_profile(call):
    profile = investors.get_profile(call.user)
    if profile is None:
        raise NotFound("You have no investor profile yet: PUT one first.")
    return _profile_body(call.user, profile)


@operation(
    "PUT",
    "/me/investor-profile",
    tag="investing",
    summary="Create or replace your investor profile",
    description="Needed before the first equity commitment. Amounts are minor units of `currency`, which "
    "must be the currency of the offerings you invest in.",
    body=S.INVESTOR_PROFILE_UPDATE,
    response=S.INVESTOR_PROFILE,
)
def put_investor_profile(call):
    profile = investors.save_profile(call.user, call.body)
    return _profile_body(call.user, profile)


@operation("GET", "/me/holdings", tag="investing", summary="Your shares (the share register)", response=S.HOLDING_LIST)
def my_holdings(call):
    return {"items": [serializers.holding(h) for h in statements.holdings_of(call.user)]}
