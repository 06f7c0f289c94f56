"""A reward campaign's tiers: what a backer gets for a price, how many, shipped where and when.

Once the project is approved, a tier without pledges can still change (each change logged); a
tier with pledges can only grow its quantity, and cannot be removed.
"""

import re
from datetime import datetime, timezone

from flask_babel import gettext as _
from sqlalchemy import func, select

from ...errors import ValidationError
from ...extensions import db
from ...models import ProjectKind, ProjectStatus as S, RewardTier, utcnow
from .. import use_case
from ..transitions import PROJECT_STATUS_WORDS
from .access import EDITABLE, STORY_EDITABLE, require_member, require_status
from .add_ons import clean_shipping
from .editing import amount, announce_edits, log_edit, raise_errors, save_fields, text, whole

SHIPPING_KINDS = ("none", "domestic", "worldwide")
# The largest count the column holds (tier quantities are INTEGER).
MAX_COUNT = 2**31 - 1


def tier_as_input(tier):
    """The tier as its editing form shows it (amounts in minor units)."""
    data = {
        key: getattr(tier, key)
        for key in (
            "title",
            "description",
            "price",
            "shipping_fee",
            "estimated_delivery",
            "shipping",
            "shipping_rates",
            "available_from",
            "available_until",
        )
    }
    for key in ("quantity", "per_backer_limit"):
        data[key] = "" if getattr(tier, key) is None else str(getattr(tier, key))
    return data


def _month_ok(value):
    if not re.fullmatch(r"\d{4}-\d{2}", value):
        return False
    year, month = int(value[:4]), int(value[5:])
    return 1 <= month <= 12 and 2000 <= year <= 2200


def _clean_tier(data, currency):
    errors = {}
    cleaned = {
        "title": text(
            data, "title", errors, required_message=_("Give the reward a title."), max_length=120, label=_("The title")
        ),
        "description": text(data, "description", errors, max_length=5000, label=_("The description")),
        "price": amount(data, "price", currency, errors, required_message=_("Enter the reward's price.")),
        "quantity": whole(
            data,
            "quantity",
            errors,
            minimum=1,
            maximum=MAX_COUNT,
            message=_("Enter how many are available (at least 1), or leave it empty for no limit."),
        ),
        "per_backer_limit": whole(
            data,
            "per_backer_limit",
            errors,
            minimum=1,
            maximum=MAX_COUNT,
            message=_("Enter a limit of at least 1, or leave it empty."),
        ),
    }
    if cleaned["quantity"] and cleaned["per_backer_limit"] and cleaned["per_backer_limit"] > cleaned["quantity"]:
        errors["per_backer_limit"] = _("The limit per backer cannot be more than the quantity available.")
    delivery = (data.get("estimated_delivery") or "").strip()
    if not delivery:
        errors["estimated_delivery"] = _("Enter the month you expect to deliver (YYYY-MM).")
    elif not _month_ok(delivery):
        errors["estimated_delivery"] = _("Enter the delivery month as YYYY-MM, for example 2026-09.")
    elif delivery < utcnow().strftime("%Y-%m"):
        errors["estimated_delivery"] = _("The estimated delivery month is in the past.")
    cleaned["estimated_delivery"] = delivery
    cleaned.update(clean_shipping(data, currency, errors))  # the fee, and fees per destination
    for key in ("available_from", "available_until"):
        value = data.get(key) or None
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise TypeError(f"{key} must be an aware datetime")
        cleaned[key] = value.astimezone(timezone.utc) if value else None
    if (
        cleaned["available_from"]
        and cleaned["available_until"]
        and cleaned["available_until"] <= cleaned["available_from"]
    ):
        errors["available_until"] = _("The end of the availability window must be after its start.")
    return cleaned, errors


def _tier_project_check(project):
    if project.kind != ProjectKind.REWARD.value:
        raise ValidationError(_("Only reward projects have reward tiers."))
    require_status(
        project,
        EDITABLE | STORY_EDITABLE,
        _("This project is %(status)s, so its rewards cannot change.", status=PROJECT_STATUS_WORDS[S(project.status)]),
    )


def _lock_tier(tier):
    """Re-read the tier under a row lock (PostgreSQL): pledges change `sold` concurrently."""
    query = select(RewardTier).where(RewardTier.id == tier.id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalar(query)


@use_case
def add_tier(user, project, data):
    require_member(user, project)
    _tier_project_check(project)
    cleaned, errors = _clean_tier(data, project.currency)
    raise_errors(errors)
    position = (
        db.session.scalar(
            select(func.coalesce(func.max(RewardTier.position), 0)).where(RewardTier.project_id == project.id)
        )
        + 1
    )
    tier = RewardTier(project=project, position=position, **cleaned)
    db.session.add(tier)
    db.session.flush()
    if project.status in STORY_EDITABLE:
        added = log_edit(user, project, f"tier {tier.id} added", "", f"{tier.title} ({tier.price} {project.currency})")
        announce_edits(project, [added])
    db.session.flush()
    return tier


@use_case
def update_tier(user, tier, data):
    project = tier.project
    require_member(user, project)
    _tier_project_check(project)
    cleaned, errors = _clean_tier(data, project.currency)
    locked = project.status in STORY_EDITABLE
    if locked:
        tier = _lock_tier(tier)
        if tier.sold > 0:
            for key, value in cleaned.items():
                if key != "quantity" and key not in errors and value != getattr(tier, key):
                    errors[key] = _("This reward already has backers, so only its quantity can change (upwards).")
            new_quantity = cleaned["quantity"]
            if (
                "quantity" not in errors
                and tier.quantity is not None
                and new_quantity is not None
                and new_quantity < tier.quantity
            ):
                errors["quantity"] = _(
                    "This reward already has backers, so its quantity can only go up (it is %(num)d).",
                    num=tier.quantity,
                )
            if "quantity" not in errors and tier.quantity is None and new_quantity is not None:
                errors["quantity"] = _("This reward already has backers and no limit; a limit cannot be added now.")
    raise_errors(errors)
    save_fields(user, project, tier, cleaned, label=f"tier {tier.id}", logged=locked)
    return tier


@use_case
def delete_tier(user, tier):
    project = tier.project
    require_member(user, project)
    _tier_project_check(project)
    if project.status in STORY_EDITABLE:
        tier = _lock_tier(tier)
    if tier.sold > 0:
        raise ValidationError(_("This reward has backers, so it cannot be removed."), code="locked")
    if project.status in STORY_EDITABLE:
        announce_edits(project, [log_edit(user, project, f"tier {tier.id} removed", tier.title, "")])
    project.tiers.remove(tier)
    db.session.delete(tier)
    db.session.flush()
