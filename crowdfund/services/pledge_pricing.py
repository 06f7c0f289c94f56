"""What a pledge costs and whether it may be made: validation and pricing, on the server.

Reads only: nothing here writes a row. `price_reward` / `price_equity` return the priced
columns of a new pledge (integer minor units; the amount charged is always computed here,
never taken from the input) or raise a ValidationError / Conflict naming the field.
"""

from flask import current_app
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import bindparam, func, select

from ..domain.clock import utcnow
from ..domain.fx import UnknownRate
from ..domain.money import format_money, max_minor
from ..domain.vocabulary import status_in_sentence
from ..errors import Conflict, ValidationError
from ..extensions import db
from ..models import EquityOffering, Pledge, RewardTier, User
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectStatus
from . import entry_checks, investors, qualifications
from .add_on_pricing import price_extras, read_lines
from .firms import country_names

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "country")
REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "postal_code", "country")
ADDRESS_MISSING = {
    "name": _l("Enter the recipient's name."),
    "line1": _l("Enter the street address."),
    "city": _l("Enter the city."),
    "postal_code": _l("Enter the postal code."),
    "country": _l("Enter the country."),
}
WHOLE_MESSAGES = {
    "extra": _l("Enter the extra amount as a whole number."),
    "amount": _l("Enter the amount as a whole number."),
    "tier_id": _l("Enter the reward as a whole number."),
    "quantity": _l("Enter the quantity as a whole number."),
    "shares": _l("Enter the number of shares as a whole number."),
}
RISKS_NOT_ACKNOWLEDGED = _l(
    "Please confirm, for this investment, that you may lose all the money you invest and "
    "that shares in a small firm are hard to sell."
)

# Units a backer already has on a tier (for the per-backer limit): a payment waiting for
# the backer still holds its units.
ACTIVE_STATUSES = (PS.PENDING.value, PS.REQUIRES_ACTION.value, PS.HELD.value)
_PROJECT_TIER = select(RewardTier).where(
    RewardTier.id == bindparam("tier"), RewardTier.project_id == bindparam("project")
)


def _money(minor, currency):
    """An amount for a message, formatted for the person reading it."""
    return format_money(minor, currency, locale=str(get_locale() or "en"))


def require_open(project, now=None):
    """Raise `project_not_live` unless the campaign takes pledges right now."""
    now = now or utcnow()
    if project.status != ProjectStatus.LIVE.value:
        raise Conflict(
            _(
                "This campaign is not taking pledges: it is %(status)s.",
                status=status_in_sentence(project.status, "project"),
            ),
            code="project_not_live",
        )
    if project.deadline is None or project.deadline <= now:
        raise Conflict(
            _("This campaign has reached its deadline and no longer takes pledges."), code="project_not_live"
        )


def is_open(project, now=None):
    """Whether the campaign takes pledges right now (`require_open` without the error)."""
    try:
        require_open(project, now)
    except Conflict:
        return False
    return True


def _whole(value, field, label):
    if value is None or value == "":
        return None
    if type(value) is not int:
        message = str(WHOLE_MESSAGES.get(field) or _("Enter %(what)s as a whole number.", what=label))
        raise ValidationError(message, fields={field: message})
    return value


def _check_total(total, currency, field):
    if total > max_minor(currency):
        message = _(
            "That is more than any single pledge can be (at most %(amount)s).",
            amount=_money(max_minor(currency), currency),
        )
        raise ValidationError(message, code="amount_too_large", fields={field: message})


def _extra(extra, currency):
    extra = _whole(extra, "extra", "the extra amount") or 0
    if extra < 0:
        raise ValidationError(
            _("The extra amount cannot be negative."), fields={"extra": _("The extra amount cannot be negative.")}
        )
    _check_total(extra, currency, "extra")
    return extra


def price_reward(
    backer_id, project, *, tier_id, quantity, amount, extra, shares, shipping_address, now, add_ons=None, changing=None
):
    """`changing`: the held pledge a change would replace (its own units do not count against
    the per-backer limit, and its tier stays choosable outside the tier's availability)."""
    if shares:
        raise ValidationError(
            _("This is a reward campaign; it does not sell shares."),
            fields={"shares": _("This is a reward campaign; it does not sell shares.")},
        )
    currency = project.currency
    extra = _extra(extra, currency)
    lines = read_lines(add_ons)
    if tier_id in (None, ""):
        if lines:
            message = _("Add-ons come with a reward: choose a reward first.")
            raise ValidationError(message, code="invalid_add_ons", fields={"add_ons": message})
        amount = _whole(amount, "amount", "the amount")
        if amount is None or amount <= 0:
            message = _("Enter an amount above zero, or choose a reward.")
            raise ValidationError(message, fields={"amount": message})
        _check_total(amount + extra, currency, "amount")
        return {
            "tier_id": None,
            "quantity": 1,
            "shares": None,
            "reward_amount": 0,
            "extra_amount": amount + extra,
            "shipping_fee": 0,
            "add_ons": None,
            "add_ons_amount": 0,
            "amount": amount + extra,
            "shipping_address": None,
        }

    tier = db.session.scalar(_PROJECT_TIER, {"tier": _whole(tier_id, "tier_id", "the reward"), "project": project.id})
    if tier is None:
        raise ValidationError(_("Choose one of this campaign's rewards."), fields={"tier_id": _("Choose a reward.")})
    quantity = _whole(quantity, "quantity", "the quantity")
    if quantity is None or quantity < 1:
        raise ValidationError(
            _("The quantity must be at least 1."), fields={"quantity": _("The quantity must be at least 1.")}
        )
    most = current_app.config["PLEDGE_MAX_QUANTITY"]
    if quantity > most:
        message = _("One pledge can hold at most %(num)d of a reward.", num=most)
        raise ValidationError(message, fields={"quantity": message})
    keeping = changing is not None and changing.tier_id == tier.id
    if tier.available_from is not None and now < tier.available_from and not keeping:
        raise ValidationError(
            _("The reward “%(title)s” is not available yet.", title=tier.title),
            code="tier_not_available",
            fields={"tier_id": _("Not available yet.")},
        )
    if tier.available_until is not None and now >= tier.available_until and not keeping:
        raise ValidationError(
            _("The reward “%(title)s” is no longer available.", title=tier.title),
            code="tier_not_available",
            fields={"tier_id": _("No longer available.")},
        )
    if tier.per_backer_limit is not None:
        held = db.session.scalar(
            select(func.coalesce(func.sum(Pledge.quantity), 0)).where(
                Pledge.backer_id == backer_id,
                Pledge.tier_id == tier.id,
                Pledge.status.in_(ACTIVE_STATUSES),
                Pledge.id != (changing.id if changing is not None else 0),
            )
        )
        if held + quantity > tier.per_backer_limit:
            left = max(tier.per_backer_limit - held, 0)
            message = _(
                "Each backer can have at most %(limit)d of “%(title)s”; you already have %(held)d, "
                "so you can add %(left)d.",
                limit=tier.per_backer_limit,
                title=tier.title,
                held=held,
                left=left,
            )
            raise ValidationError(message, code="per_backer_limit", fields={"quantity": message})
    reward = tier.price * quantity
    items, add_ons_amount, fee, address = price_extras(project, tier, lines, shipping_address, clean_address)
    total = reward + add_ons_amount + extra + fee
    _check_total(total, currency, "quantity")
    return {
        "tier_id": tier.id,
        "quantity": quantity,
        "shares": None,
        "reward_amount": reward,
        "extra_amount": extra,
        "shipping_fee": fee,
        "add_ons": items or None,
        "add_ons_amount": add_ons_amount,
        "amount": total,
        "shipping_address": address,
    }


def clean_address(raw):
    """The shipping address, trimmed, or a ValidationError naming every missing part."""
    raw = raw or {}
    address = {key: str(raw.get(key) or "").strip() for key in ADDRESS_FIELDS}
    errors = {}
    for key in REQUIRED_ADDRESS_FIELDS:
        if not address[key]:
            errors[f"shipping_{key}"] = str(ADDRESS_MISSING[key])
        elif len(address[key]) > 200:
            errors[f"shipping_{key}"] = _("That is too long.")
    address["country"] = address["country"].upper()
    if address["country"] and address["country"] not in country_names():
        errors["shipping_country"] = _("Choose the country to ship to.")
    if errors:
        raise ValidationError(
            _("This reward ships: please give a full shipping address."), code="address_required", fields=errors
        )
    return address


def price_equity(
    backer_id,
    project,
    *,
    shares,
    tier_id,
    amount,
    extra,
    now,
    acknowledge_risks=False,
    acknowledge_large_investment=False,
):
    offering = db.session.scalar(
        select(EquityOffering).where(EquityOffering.project_id == project.id).execution_options(populate_existing=True)
    )
    if offering is None:
        raise Conflict(_("This campaign has no share offering."), code="project_not_live")
    if tier_id not in (None, "") or amount not in (None, "", 0) or extra not in (None, "", 0):
        raise ValidationError(
            _("This is an equity campaign: choose a number of shares."),
            fields={"shares": _("Choose a number of shares.")},
        )
    shares = _whole(shares, "shares", "the number of shares")
    if shares is None or shares < max(offering.min_shares, 1):
        message = _("The smallest investment is %(num)d shares.", num=offering.min_shares)
        raise ValidationError(message, code="below_min_shares", fields={"shares": message})
    total = shares * offering.price_per_share
    _check_total(total, project.currency, "shares")

    user = db.session.get(User, backer_id)
    profile = investors.get_profile(user)
    if not investors.is_complete(profile):
        raise ValidationError(
            _(
                "Before your first investment, please complete your investor profile and confirm "
                "that you understand the risks."
            ),
            code="investor_profile_required",
        )
    qualifications.require_qualified(user)  # cn: an admin approved the investor's proof
    entry_checks.require_entry_checks(user, profile, now)  # eu_ecsp: the test and the simulation, fresh
    # Each commitment on its own, not once for the profile: the investor reads it where they invest.
    if acknowledge_risks is not True:
        message = str(RISKS_NOT_ACKNOWLEDGED)
        raise ValidationError(message, code="risks_not_acknowledged", fields={"acknowledge_risks": message})
    if not profile.accredited:
        _require_within_limit(user, profile, project, total, now)
    warned = entry_checks.require_warning_acknowledged(user, profile, project, total, acknowledge_large_investment)
    return {
        "tier_id": None,
        "quantity": 1,
        "shares": shares,
        "reward_amount": total,
        "extra_amount": 0,
        "shipping_fee": 0,
        "amount": total,
        "shipping_address": None,
        "risks_acknowledged_at": now,
        "large_investment_acknowledged_at": now if warned else None,
    }


def _require_within_limit(user, profile, project, total, now):
    """The 12-month limit, across every currency the investor has committed in."""
    try:
        allowance = investors.allowance(user, profile, project.currency, now=now)
        in_rule_currency = allowance.counts_as(total, project.currency)
    except UnknownRate as missing:
        raise Conflict(
            _(
                "There is no reference exchange rate for %(currency)s, so your investment limit cannot be "
                "checked. Please try again later.",
                currency=str(missing),
            ),
            code="fx_rate_missing",
        ) from None
    if in_rule_currency > allowance.remaining_in_rule_currency:
        message = (
            _(
                "This investment of %(amount)s is over your 12-month investment limit.",
                amount=_money(total, project.currency),
            )
            + " "
            + allowance.describe()
        )
        raise ValidationError(message, code="investment_limit_exceeded", fields={"shares": message})
