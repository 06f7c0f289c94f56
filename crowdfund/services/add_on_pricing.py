"""What a pledge's add-ons and shipping cost: validation and pricing, on the server (reads only).

`price_extras` is called by `pledge_pricing.price_reward` for a new pledge and by a pledge
change (`pledge_changes`): the same rules both ways, so what the backing page's running
total shows, what a change costs and what is charged are one computation.
"""

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..domain import shipping as shipping_rules
from ..errors import ValidationError
from ..extensions import db
from ..models import RewardAddOn

NO_SHIP_FIELD = "shipping_country"


def _bad(message, field="add_ons", code="invalid_add_ons"):
    raise ValidationError(message, code=code, fields={field: message})


def read_lines(raw):
    """[(id, quantity)] from the pledge's `add_ons` ([{"id", "quantity"}]), merged by id."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        _bad(_("Give the add-ons as a list of items, each with an id and a quantity."))
    most = current_app.config["PLEDGE_MAX_QUANTITY"]
    merged = {}
    for line in raw:
        if not isinstance(line, dict):
            _bad(_("Give the add-ons as a list of items, each with an id and a quantity."))
        add_on_id, quantity = line.get("id"), line.get("quantity", 1)
        if type(add_on_id) is not int or type(quantity) is not int:
            _bad(_("An add-on's id and quantity are whole numbers."))
        if quantity < 0 or quantity > most:
            _bad(_("An add-on's quantity is from 0 to %(num)d.", num=most))
        if quantity:
            merged[add_on_id] = merged.get(add_on_id, 0) + quantity
    return sorted(merged.items())  # id order: the order their rows are locked in


def offered(project):
    """The campaign's add-ons, in the founder's order: no query for one that never had any
    (`projects.has_add_ons`, set when the first is added)."""
    return project.add_ons if project.has_add_ons else []


def home_country(project):
    """The firm's country ("domestic" shipping): from the session's firm when already loaded."""
    return project.firm.country


def price_extras(project, tier, lines, raw_address, clean_address):
    """The add-ons' lines and amount, and the shipping fee of the tier and add-ons.

    Returns (items, add_ons_amount, shipping_fee, address): the address (cleaned by
    `clean_address`, which raises naming each missing part) only when something in the pledge
    ships, else None. Raises a ValidationError naming `shipping_country` for a destination
    something in the pledge is not shipped to (422 `does_not_ship`)."""
    items, add_ons_amount = [], 0
    add_ons = []
    if lines:
        if tier is None:
            _bad(_("Add-ons come with a reward: choose a reward first."))
        if not project.has_add_ons:
            _bad(_("Choose add-ons of this campaign."))
        found = {
            a.id: a
            for a in db.session.scalars(
                select(RewardAddOn).where(
                    RewardAddOn.project_id == project.id, RewardAddOn.id.in_([i for i, _q in lines])
                )
            )
        }
        for add_on_id, quantity in lines:
            add_on = found.get(add_on_id)
            if add_on is None:
                _bad(_("Choose add-ons of this campaign."))
            add_ons.append((add_on, quantity))
            items.append({"id": add_on.id, "title": add_on.title, "quantity": quantity, "price": add_on.price})
            add_ons_amount += add_on.price * quantity
    shipped = [(tier.title, tier.shipping, tier.shipping_fee, tier.shipping_rates)] if tier is not None else []
    shipped += [(a.title, a.shipping, a.shipping_fee, a.shipping_rates) for a, _q in add_ons]
    shipped = [entry for entry in shipped if shipping_rules.ships(entry[1])]
    if not shipped:
        return items, add_ons_amount, 0, None
    address = clean_address(raw_address)
    address_country = address["country"]
    home = home_country(project)
    fee = 0
    for title, kind, flat, rates in shipped:
        one = shipping_rules.fee_for(kind, flat, rates, address_country, home)
        if one is None:
            message = _("“%(title)s” does not ship to this country.", title=title)
            raise ValidationError(message, code="does_not_ship", fields={NO_SHIP_FIELD: message})
        fee += one
    return items, add_ons_amount, fee, address
