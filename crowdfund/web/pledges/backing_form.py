"""What the backing and change pages read beyond the WTForms fields: the add-on quantities
(one `add_on-<id>` input per add-on the campaign offers) and the running total to show."""

import re

from flask import current_app
from flask_babel import gettext as _

from ...domain.money import max_minor, to_minor
from ...services import backing_quote
from ...services.add_on_pricing import offered
from ..request_guards import whole_number

ADD_ON_FIELD = "add_on-{}"


def add_on_values(form_data, project):
    """{add-on id: units typed} and {add-on id: error} for the campaign's add-ons."""
    values, errors = {}, {}
    for add_on in offered(project):
        raw = (form_data.get(ADD_ON_FIELD.format(add_on.id)) or "").strip()
        if raw in ("", "0"):
            continue
        units = whole_number(raw)
        if units is None:
            errors[add_on.id] = _("Enter how many, as a whole number.")
        else:
            values[add_on.id] = units
    return values, errors


def as_lines(values):
    return [{"id": add_on_id, "quantity": units} for add_on_id, units in sorted(values.items())]


def _minor(text, currency):
    text = (text or "").strip()
    if not text:
        return 0
    try:
        return min(to_minor(text, currency), max_minor(currency) + 1)
    except (ArithmeticError, ValueError):
        return 0


def page_quote(project, form, values):
    """The running total for the form as it stands (None before a reward is chosen)."""
    chosen = (form.tier_id.data or "").strip()
    if chosen == "":
        return None
    tier = None
    if chosen != "none":
        tier_id = whole_number(chosen)
        tier = next((t for t in project.tiers if t.id == tier_id), None)
        if tier is None:
            return None
    quantity = form.quantity.data if isinstance(form.quantity.data, int) else 1
    most = current_app.config["PLEDGE_MAX_QUANTITY"]
    if not 1 <= quantity <= most or any(units > most for units in values.values()):
        return None  # the form says what is wrong; there is no total to show
    quote = backing_quote.quote(
        project,
        tier,
        quantity,
        sorted(values.items()),
        _minor(form.extra.data, project.currency),
        _minor(form.amount.data, project.currency),
        (form.shipping_country.data or "").strip().upper(),
    )
    return None if (quote.total or 0) > max_minor(project.currency) else quote


def tier_choice(form):
    """The reward chosen: a tier id as text, "none" (no reward), or "" (not chosen yet)."""
    value = (form.tier_id.data or "").strip()
    return value if value == "none" or re.fullmatch(r"[0-9]{1,10}", value) else ""
