"""A reward campaign's add-ons: items a backer adds to a reward pledge (an extra mug, a
second cable), each with its own price, stock and shipping. They may be offered while the
campaign is a draft and while it is live; one with backers cannot be removed, keeps its price,
and keeps at least as many as its backers took. Once approved, each change is logged and
announced as a tier's is (services/change_history.py lists them under "Rewards").

`clean_shipping` is also what tiers use for their fees per destination (domain/shipping.py).
"""

from flask_babel import gettext as _
from sqlalchemy import func, select

from ...domain import shipping as shipping_rules
from ...domain.money import max_minor
from ...errors import NotFound, ValidationError
from ...extensions import db
from ...models import ProjectKind, ProjectStatus as S, RewardAddOn
from .. import use_case
from ..firms import country_names
from ..transitions import PROJECT_STATUS_WORDS
from .access import EDITABLE, STORY_EDITABLE, is_member, require_member, require_status
from .editing import amount, log_edit, raise_errors, save_fields, text, whole

MAX_COUNT = 2**31 - 1
RATE_PROBLEMS = {
    "list": lambda: _("Give the shipping fees as a list of destinations and fees."),
    "entry": lambda: _("Each shipping fee needs a destination and a fee."),
    "destination": lambda: _(
        "Name each destination as domestic, rest_of_world, a region (eu, europe, north_america, "
        "east_asia, southeast_asia, oceania) or a two-letter country code."
    ),
    "duplicate": lambda: _("Each destination may appear only once."),
    "fee": lambda: _("A shipping fee is a whole amount of at least zero, or empty for “does not ship there”."),
    "domestic_only": lambda: _("A reward that ships domestically has only a domestic fee."),
}


def clean_shipping(data, currency, errors):
    """`shipping`, `shipping_fee` and `shipping_rates` of a tier or add-on, as stored."""
    kind = (data.get("shipping") or "none").strip()
    if kind not in shipping_rules.SHIPPING_KINDS:
        errors["shipping"] = _("Choose no shipping, domestic or worldwide.")
    fee = data.get("shipping_fee")
    fee = amount(
        {"shipping_fee": 0 if fee is None else fee},
        "shipping_fee",
        currency,
        errors,
        required_message="",
        positive=False,
    )
    if kind == "none" and fee:
        errors["shipping_fee"] = _("There is no shipping fee when nothing is shipped.")
    rates, problems = shipping_rules.clean_rates(data.get("shipping_rates"), kind, country_names())
    if problems:
        errors["shipping_rates"] = str(RATE_PROBLEMS[next(iter(problems.values()))]())
    elif rates and kind == "none":
        errors["shipping_rates"] = _("There are no shipping fees when nothing is shipped.")
    elif rates and any((rate["fee"] or 0) > max_minor(currency) for rate in rates):
        errors["shipping_rates"] = _("That amount is too large.")
    return {"shipping": kind, "shipping_fee": fee, "shipping_rates": rates}


def _clean(data, currency):
    errors = {}
    cleaned = {
        "title": text(
            data, "title", errors, required_message=_("Give the add-on a title."), max_length=120, label=_("The title")
        ),
        "description": text(data, "description", errors, max_length=5000, label=_("The description")),
        "price": amount(data, "price", currency, errors, required_message=_("Enter the add-on's price.")),
        "quantity": whole(
            data,
            "quantity",
            errors,
            minimum=1,
            maximum=MAX_COUNT,
            message=_("Enter how many are available (at least 1), or leave it empty for no limit."),
        ),
    }
    cleaned.update(clean_shipping(data, currency, errors))
    return cleaned, errors


def _require_editable(project):
    if project.kind != ProjectKind.REWARD.value:
        raise ValidationError(_("Only reward campaigns have add-ons."), code="not_a_reward_campaign")
    require_status(
        project,
        EDITABLE | STORY_EDITABLE,
        _("This project is %(status)s, so its add-ons cannot change.", status=PROJECT_STATUS_WORDS[S(project.status)]),
    )


@use_case
def add_add_on(user, project, data):
    require_member(user, project)
    _require_editable(project)
    cleaned, errors = _clean(data, project.currency)
    raise_errors(errors)
    position = (
        db.session.scalar(
            select(func.coalesce(func.max(RewardAddOn.position), 0)).where(RewardAddOn.project_id == project.id)
        )
        + 1
    )
    add_on = RewardAddOn(project_id=project.id, position=position, sold=0, **cleaned)
    db.session.add(add_on)
    db.session.flush()
    if project.status in STORY_EDITABLE:
        log_edit(user, project, f"add-on {add_on.id} added", "", f"{add_on.title} ({add_on.price} {project.currency})")
    return add_on


def add_on_as_input(add_on):
    """The add-on as its editing form shows it (amounts in minor units), and what an API
    change leaves as it is."""
    data = {
        key: getattr(add_on, key)
        for key in ("title", "description", "price", "shipping", "shipping_fee", "shipping_rates")
    }
    data["quantity"] = "" if add_on.quantity is None else str(add_on.quantity)
    return data


def own_add_on(user, add_on_id):
    """The add-on, for one of its campaign's firm; NotFound for anyone else (no hint it exists)."""
    add_on = db.session.get(RewardAddOn, add_on_id)
    if add_on is None or not is_member(user, add_on.project):
        raise NotFound(_("There is no such add-on."))
    return add_on


def _lock(add_on):
    """Re-read the add-on under its row lock: pledges change `sold` at the same time."""
    return db.session.scalar(
        select(RewardAddOn)
        .where(RewardAddOn.id == add_on.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


@use_case
def update_add_on(user, add_on, data):
    """Change the add-on's title, description, price and shipping (while no pledge has it) or
    quantity (never below the units backers took). Every problem is reported at once, naming
    its field."""
    project = add_on.project
    require_member(user, project)
    _require_editable(project)
    cleaned, errors = _clean(data, project.currency)
    add_on = _lock(add_on)
    if add_on.sold > 0:
        if "price" not in errors and cleaned["price"] != add_on.price:
            errors["price"] = _("Backers have already added this add-on, so its price cannot change.")
        # What backers pay to have it sent was part of what they agreed to: a fee or a
        # destination changed now would not match what they paid, or where it may go.
        for key in ("shipping", "shipping_fee", "shipping_rates"):
            if key not in errors and cleaned[key] != getattr(add_on, key):
                errors[key] = _("Backers have already added this add-on, so its shipping cannot change.")
        if "quantity" not in errors and cleaned["quantity"] is not None and cleaned["quantity"] < add_on.sold:
            errors["quantity"] = _(
                "Backers have already taken %(num)d, so the quantity cannot be less than that.", num=add_on.sold
            )
    raise_errors(errors)
    save_fields(user, project, add_on, cleaned, label=f"add-on {add_on.id}", logged=project.status in STORY_EDITABLE)
    return add_on


@use_case
def delete_add_on(user, add_on):
    project = add_on.project
    require_member(user, project)
    _require_editable(project)
    locked = _lock(add_on)
    if locked.sold > 0:
        raise ValidationError(_("This add-on has backers, so it cannot be removed."), code="locked")
    if project.status in STORY_EDITABLE:
        log_edit(user, project, f"add-on {add_on.id} removed", add_on.title, "")
    db.session.delete(locked)
    db.session.flush()


def add_ons_of(project_id):
    return db.session.scalars(
        select(RewardAddOn).where(RewardAddOn.project_id == project_id).order_by(RewardAddOn.position, RewardAddOn.id)
    ).all()
