"""Backing beyond a plain pledge: a campaign's add-ons, and changing a held pledge (issue 23)."""

from flask import url_for

from ..services.projects import add_ons
from ..workflows import pledge_change
from . import pledge_schemas, project_schemas as S, serializers
from .errors import field_names
from .projects import ADDRESS_FIELDS, visible_project
from .registry import operation

CHANGE_FIELDS = ("tier_id", "quantity", "add_ons", "shipping_address", "extra", "amount")


@operation(
    "POST",
    "/projects/{project_id}/add-ons",
    tag="projects",
    summary="Offer an add-on",
    description="Reward campaigns, while a draft or live: an item backers add to a reward pledge, with its own "
    "price, stock (`quantity`, null: unlimited) and shipping (as a tier's: `shipping`, `shipping_fee`, "
    "`shipping_rates`). Listed as `add_ons` on the project; a pledge takes `add_ons: [{id, quantity}]`.",
    body=S.ADD_ON_CREATE,
    status=201,
    response=S.ADD_ON,
    errors=(403,),
)
def add_add_on(call, project_id):
    project = visible_project(call.user, project_id)
    return serializers.add_on(add_ons.add_add_on(call.user, project, call.body))


@operation(
    "PATCH",
    "/add-ons/{add_on_id}",
    tag="projects",
    summary="Change an add-on",
    description="The campaign's firm, while it is a draft or live: `title`, `description`, `price` (only while "
    "no pledge has the add-on), `quantity` (null: unlimited; never below the units backers already took), "
    "`shipping`, `shipping_fee`, `shipping_rates`; what is left out stays as it is. Once the campaign is "
    "approved each change shows in its changes (`/projects/{id}/changes`) and is mailed to its backers. "
    "404 for anyone else's add-on; 422 naming the field for bad input.",
    body=S.ADD_ON_UPDATE,
    response=S.ADD_ON,
    errors=(404,),
)
def update_add_on(call, add_on_id):
    add_on = add_ons.own_add_on(call.user, add_on_id)
    changed = add_ons.update_add_on(call.user, add_on, {**add_ons.add_on_as_input(add_on), **call.body})
    return serializers.add_on(changed)


@operation(
    "PATCH",
    "/pledges/{pledge_id}",
    tag="pledges",
    summary="Change your pledge while the campaign is live",
    description="A held reward pledge: another `tier_id`, `quantity`, `add_ons`, `extra` or `shipping_address` "
    "(what is left out stays as it is). Staying on a limited tier keeps your units; only added units are "
    "taken. A larger total is charged to `payment_method` (default: the pledge's) and the earlier charge "
    "refunded, a smaller one refunded by the difference; the ledger moves by the difference. 409 "
    "`sold_out` when the new tier or an add-on has no room (the pledge stays as it was); 422 "
    "`does_not_ship` naming `shipping_address.country`; 402 when the card is declined. When the larger "
    "total must first be confirmed with the backer's bank (3-D Secure) or wallet: 202 with the pledge as it "
    "was and `change` (`status` requires_action, `next_action`): send the backer to `next_action.url`; "
    "the new terms apply once the payment succeeds (`GET /pledges/{id}` shows them), and a payment not "
    "confirmed within `PLEDGE_ACTION_TIMEOUT` is cancelled, the pledge as it was. Until then another "
    "change is refused with 409 `busy`.",
    body=pledge_schemas.PLEDGE_CHANGE,
    response=pledge_schemas.PLEDGE_CHANGED,
    errors=(402, 403, 409),
    also={202: "Accepted: the backer must confirm the new total's payment (`change.next_action`)."},
)
def change_pledge(call, pledge_id):
    data = {name: call.body[name] for name in CHANGE_FIELDS if name in call.body}
    with field_names(ADDRESS_FIELDS):
        outcome = pledge_change.request_change(
            call.user, pledge_id, data, payment_method=call.body.get("payment_method"), return_url=_change_return_url
        )
    body = serializers.pledge(outcome.pledge)
    if not outcome.waiting:
        return body
    return {**body, "change": serializers.waiting_change(outcome.change, outcome.next_action)}, 202


def _change_return_url(pledge_id, number):
    """Where the processor sends the backer back after their bank or wallet: our web page."""
    return url_for("pledges.change_return", pledge_id=pledge_id, number=number, _external=True)
