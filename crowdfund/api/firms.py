"""A firm: read it, edit it (some details lock while money is at stake), set up its payouts."""

from flask import url_for

from ..errors import NotFound
from ..services import delivery_records, firm_changes, firm_record, firms, payout_accounts
from ..workflows import payout_onboarding
from . import account_schemas as S, serializers
from .errors import field_names
from .registry import operation

NAMES = {"legal_name": "name"}  # the service's field names -> the API's


def visible_firm(user, firm_id):
    """The firm, for its people and admins; NotFound for anyone else (no hint it exists)."""
    try:
        firm = firms.get_firm(firm_id)
    except NotFound:
        raise NotFound("There is no such firm.") from None
    if not (firm.has_member(user) or user.is_admin):
        raise NotFound("There is no such firm.")
    return firm


def _firm(firm):
    return serializers.firm(
        firm, locked=firm_changes.is_locked(firm.id), payout_status=payout_accounts.status_of(firm.id)
    )


@operation(
    "GET",
    "/firms/{firm_id}",
    tag="firms",
    access="optional",
    summary="A firm",
    description="Anyone may read a firm with a campaign that has a public page (live or ended): its "
    "registered details, the people it names and its public campaigns. `locked` and "
    "`payout_account` only for its people and admins.",
    response=S.FIRM,
)
def get_firm(call, firm_id):
    firm = firms.get_firm(firm_id)
    record = {
        "people": [{"name": p.name, "role": p.role} for p in firm_record.people(firm)],
        "campaigns": [serializers.campaign_record(c) for c in firm_record.campaigns(firm)],
        "delivery": delivery_records.firm_performance(firm),
    }
    if call.user is not None and (firm.has_member(call.user) or call.user.is_admin):
        return {**_firm(firm), **record}
    if not firm_record.is_public(firm):
        raise NotFound("There is no such firm.")
    return {**serializers.public_firm(firm), **record}


@operation(
    "PATCH",
    "/firms/{firm_id}",
    tag="firms",
    summary="Change a firm (its people)",
    body=S.FIRM_UPDATE,
    response=S.FIRM,
    errors=(403, 409),
)
def update_firm(call, firm_id):
    firm = visible_firm(call.user, firm_id)
    firms.require_member(call.user, firm)
    body = {("legal_name" if key == "name" else key): value for key, value in call.body.items()}
    data = {**{key: getattr(firm, key) for key in firms.FIRM_FIELDS}, **body}
    with field_names(NAMES):
        firm_changes.update_firm(call.user, firm, data, locked="refuse")
    return _firm(firm)


@operation(
    "POST",
    "/firms/{firm_id}/payout-account",
    tag="firms",
    summary="Set up the firm's payout account",
    description="Opens the firm's account with the payment processor if it has none, and answers the "
    "processor's onboarding page for it (`onboarding_url`, single use): send a person of the "
    "firm there. Calling it again gives a new link for the same account. A campaign launches, "
    "and its money is paid out, only once `status` is verified; `GET /firms/{firm_id}` shows "
    "it as the processor last reported it.",
    status=201,
    response=S.PAYOUT_ACCOUNT_SETUP,
    errors=(403, 409, 503),
)
def set_up_payout_account(call, firm_id):
    firm = visible_firm(call.user, firm_id)
    firms.require_member(call.user, firm)
    account, url = payout_onboarding.start(
        call.user, firm.id, return_url=_web("firms.payout_return"), refresh_url=_web("firms.payout_refresh")
    )
    return {"status": account.status, "onboarding_url": url}


def _web(endpoint):
    """Our web page the processor sends the person back to (the API has no browser pages)."""
    return lambda firm_id: url_for(endpoint, firm_id=firm_id, _external=True)
