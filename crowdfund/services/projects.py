"""Projects: a founder writes a campaign for their firm, adds reward tiers or equity terms,
uploads documents and submits it for review.

Editing rules (what backers rely on must not move under them):
- `draft` and `changes_requested`: everything can change.
- `approved` and `live`: goal, currency, title (and so the slug), category, the equity
  terms and the disclosure documents are locked. The story (summary, description, risks,
  use of funds, cover image) can change; every such change is logged in `ProjectEdit`.
  Reward tiers that have pledges (`sold > 0`) are locked except that their quantity may go
  up; tiers without pledges can still be edited, added and removed (logged too).
- any other state: nothing changes.

Amounts in `data` dicts are decimal strings in major units, as a person types them
("2500", "12.50"); they are parsed with the project's currency (`to_minor`). With
`minor_units=True` (the JSON API) they are integers in minor units instead (250000, 1250),
checked by the same rules (no negatives, no absurd sizes).
"""
import hashlib
import re
import secrets
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from ..domain.files import extension, normalise_content_type, sniff
from ..domain.markup import render_markdown
from ..domain.money import SUPPORTED_CURRENCIES, page_locale, to_major, to_minor
from ..domain.numbers import read_whole, whole_example
from ..domain.registration_numbers import registration_number_problem
from ..errors import NotFound, PermissionDenied, ValidationError
from ..extensions import db
from ..models import (EquityOffering, Project, ProjectDocument, ProjectEdit, ProjectKind, ProjectStatus as S,
                      Review, RewardTier, utcnow)
from . import account_standing, use_case
from .transitions import PROJECT_STATUS_WORDS, can_move, transition

CATEGORIES = ("design", "technology", "food", "publishing", "games", "crafts", "fashion", "film",
              "music", "community")
SHIPPING_KINDS = ("none", "domestic", "worldwide")
SECURITY_TYPES = ("ordinary_shares",)
RISK_GRADES = ("A", "B", "C", "D", "E")

STORY_FIELDS = ("summary", "description", "risks", "use_of_funds")
BASIC_FIELDS = ("title", "category", "currency", "goal", "duration_days") + STORY_FIELDS
LOCKED_AFTER_APPROVAL = ("title", "category", "currency", "goal", "duration_days")

EDITABLE = {S.DRAFT.value, S.CHANGES_REQUESTED.value}      # everything may change
STORY_EDITABLE = {S.APPROVED.value, S.LIVE.value}           # only the story may change (logged)
PUBLIC = {S.LIVE.value, S.SUCCESSFUL.value, S.FAILED.value}  # anyone may see the page

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
PDF_TYPES = ("application/pdf",)
DOCUMENT_KINDS = {"cover": IMAGE_TYPES, "business_plan": PDF_TYPES, "financial_statements": PDF_TYPES}
DISCLOSURE_KINDS = ("business_plan", "financial_statements")
# What a person is told about each kind of upload.
WRONG_TYPE = {"cover": _l("The cover image must be a JPEG, PNG, WebP or GIF image."),
              "business_plan": _l("The business plan must be a PDF file."),
              "financial_statements": _l("The financial statements must be a PDF file.")}
NOT_REALLY = {"cover": _l("This file is not really a JPEG, PNG, WebP or GIF image: its contents do not match its type."),
              "business_plan": _l("This file is not really a PDF file: its contents do not match its type."),
              "financial_statements": _l("This file is not really a PDF file: its contents do not match its type.")}
UPLOAD_MISSING = {"business_plan": _l("Upload the business plan (PDF)."),
                  "financial_statements": _l("Upload the financial statements (PDF).")}
DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

# Largest counts the columns hold: tier quantities are INTEGER, share counts BIGINT.
MAX_COUNT = 2**31 - 1
MAX_SHARES = 10**15

TEXT_LABELS = {"description": _l("The description"), "risks": _l("The risks and challenges"),
               "use_of_funds": _l("The use of funds")}
LOCKED_MESSAGES = {"title": _l("The title cannot change after approval: backers rely on it."),
                   "category": _l("The category cannot change after approval: backers rely on it."),
                   "currency": _l("The currency cannot change after approval: backers rely on it."),
                   "goal": _l("The goal cannot change after approval: backers rely on it."),
                   "duration_days": _l("The planned duration cannot change after approval: backers rely on it.")}


# --- looking projects up -------------------------------------------------------------

def get_project(project_id, *, options=()):
    project = db.session.get(Project, project_id, options=options)
    if project is None:
        raise NotFound(_("There is no such project."))
    return project


# Every view of a campaign page that is not cached runs it: built once (see services/pledges.py).
_PROJECT_PAGE = (select(Project).where(Project.slug == bindparam("slug"))
                 .options(joinedload(Project.firm), joinedload(Project.equity), joinedload(Project.tiers),
                          joinedload(Project.documents)))


def get_by_slug(slug):
    """The project with this slug, with what its public page shows (firm, tiers, equity terms,
    documents) loaded in the same query: one round trip instead of five lazy loads."""
    project = db.session.scalars(_PROJECT_PAGE, {"slug": slug}).unique().first()
    if project is None:
        raise NotFound(_("There is no such project."))
    return project


def ids_by_slug(slug):
    """(id, firm_id) of the project with this slug, or None. Read on a connection of its own,
    in a transaction of its own, so the caller's next query starts a new snapshot."""
    with db.engine.connect() as connection:
        return connection.execute(select(Project.id, Project.firm_id).where(Project.slug == slug)).first()


def lock(project):
    """Re-read `project` under a row lock (FOR UPDATE on PostgreSQL) before changing its state,
    so a concurrent change (another reviewer, the deadline job, a cancel) cannot slip in
    between the check and the write. Returns the same, refreshed object."""
    query = select(Project).where(Project.id == project.id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalar(query)


def is_member(user, project):
    return bool(user is not None and getattr(user, "is_authenticated", False) and project.firm.has_member(user))


def can_view(user, project):
    """Live and ended campaigns are public; drafts and the rest only for the firm and admins."""
    if project.status in PUBLIC:
        return True
    return is_member(user, project) or bool(getattr(user, "is_admin", False))


def require_member(user, project):
    if not is_member(user, project):
        raise PermissionDenied(_("Only the people of the project's firm can do that."))


def require_member_or_admin(user, project):
    """The firm's people and admins (e.g. the money statement); PermissionDenied otherwise."""
    if not (is_member(user, project) or bool(getattr(user, "is_admin", False))):
        raise PermissionDenied("Only the people of the project's firm and administrators can see that.")


def projects_for(user):
    """Every project of every firm `user` belongs to, newest first."""
    firm_ids = [m.firm_id for m in user.memberships]
    if not firm_ids:
        return []
    return db.session.scalars(select(Project).where(Project.firm_id.in_(firm_ids))
                              .order_by(Project.created_at.desc(), Project.id.desc())).all()


def live_projects(limit=12):
    return db.session.scalars(select(Project).where(Project.status == S.LIVE.value)
                              .order_by(Project.launched_at.desc(), Project.id.desc()).limit(limit)).all()


def latest_review(project):
    return db.session.scalar(select(Review).where(Review.project_id == project.id)
                             .order_by(Review.created_at.desc(), Review.id.desc()).limit(1))


def current_documents(project):
    """The newest document of each kind (earlier uploads stay as history)."""
    current = {}
    for doc in sorted(project.documents, key=lambda d: d.id or 0):
        current[doc.kind] = doc
    return current


def progress_percent(project):
    return int(project.pledged_amount * 100 // project.goal) if project.goal else 0


# --- what a form shows when editing (amounts back as decimal strings) -----------------

def _major(minor, currency):
    return "" if minor is None else str(to_major(minor, currency))


def basics_as_input(project):
    data = {key: getattr(project, key) for key in ("title", "category", "currency") + STORY_FIELDS}
    data["goal"] = _major(project.goal, project.currency)
    data["duration_days"] = "" if project.duration_days is None else str(project.duration_days)
    return data


def tier_as_input(tier):
    currency = tier.project.currency
    data = {key: getattr(tier, key) for key in ("title", "description", "estimated_delivery", "shipping",
                                                 "available_from", "available_until")}
    data["price"] = _major(tier.price, currency)
    data["shipping_fee"] = _major(tier.shipping_fee, currency)
    for key in ("quantity", "per_backer_limit"):
        data[key] = "" if getattr(tier, key) is None else str(getattr(tier, key))
    return data


def equity_as_input(project):
    offering = project.equity
    if offering is None:
        return {"security_type": "ordinary_shares", "min_shares": "1"}
    currency = project.currency
    return {"security_type": offering.security_type,
            "price_per_share": _major(offering.price_per_share, currency),
            "pre_money_valuation": _major(offering.pre_money_valuation, currency),
            **{key: str(getattr(offering, key)) for key in ("shares_offered", "min_shares", "shares_outstanding")}}


# --- cleaning input --------------------------------------------------------------------

def _text(data, key, errors, *, required_message=None, max_length=None, label=""):
    value = (data.get(key) or "").strip()
    if not value and required_message:
        errors[key] = required_message
    elif max_length and len(value) > max_length:
        errors[key] = _("%(what)s is too long (%(max)d characters at most).",
                        what=label or TEXT_LABELS.get(key, key), max=max_length)
    return value


def _amount(data, key, currency, errors, *, required_message, positive=True, minor_units=False):
    raw = data.get(key)
    if raw is None or str(raw).strip() == "":
        errors[key] = required_message
        return None
    try:
        if minor_units:
            if type(raw) is not int:
                raise ValueError("Enter the amount as a whole number of minor units (cents, fen).")
            raw = to_major(raw, currency)  # and back: the same checks as a typed amount
        value = to_minor(raw, currency)
    except ValueError as exc:
        errors[key] = str(exc)
        return None
    if positive and value <= 0:
        errors[key] = _("Enter an amount greater than zero.")
        return None
    return value


def _whole(data, key, errors, *, required_message=None, minimum=1, maximum=None, message=None):
    """A whole number >= minimum, or None when empty and not required."""
    raw = data.get(key)
    if raw is None or str(raw).strip() == "":
        if required_message:
            errors[key] = required_message
        return None
    # Typed digits 0-9 (with the page language's group separators in their places); the
    # API's own integers as they are.
    value = raw if type(raw) is int else read_whole(str(raw), page_locale())
    if value is None:
        errors[key] = _("Enter a whole number in digits, like %(example)s.", example=whole_example(page_locale()))
        return None
    if value < minimum or (maximum is not None and value > maximum):
        errors[key] = str(message) if message else (
            _("Enter a whole number of at least %(min)d.", min=minimum) if maximum is None
            else _("Enter a whole number from %(min)d to %(max)d.", min=minimum, max=maximum))
        return None
    return value


def _raise(errors, headline=None):
    if errors:
        first = next(iter(errors.values()))
        raise ValidationError(headline or first, fields=errors)


def _clean_basics(data, current_currency=None, *, minor_units=False):
    """Clean the basic fields present in `data` (every one of them when creating)."""
    errors, cleaned = {}, {}
    if "title" in data:
        cleaned["title"] = _text(data, "title", errors, required_message=_("Give the project a title."),
                                 max_length=120, label=_("The title"))
    if "summary" in data:
        cleaned["summary"] = _text(data, "summary", errors, max_length=300, label=_("The summary"),
                                   required_message=_("Write a one-line summary of the project."))
    for key in ("description", "risks", "use_of_funds"):
        if key in data:
            cleaned[key] = _text(data, key, errors, max_length=50_000)
    if "category" in data:
        category = (data.get("category") or "").strip().lower()
        if category not in CATEGORIES:
            errors["category"] = _("Choose a category from the list.")
        cleaned["category"] = category
    currency = current_currency
    if "currency" in data:
        currency = (data.get("currency") or "").strip().upper()
        if currency not in SUPPORTED_CURRENCIES:
            errors["currency"] = _("Choose one of the supported currencies: %(list)s.",
                                   list=", ".join(SUPPORTED_CURRENCIES))
            currency = None
        cleaned["currency"] = currency
    if "goal" in data and currency:
        cleaned["goal"] = _amount(data, "goal", currency, errors, required_message=_("Enter the funding goal."),
                                  minor_units=minor_units)
    if "duration_days" in data:
        # The plan only: the launch checks the real deadline against the configured window.
        longest = max(1, -(-current_app.config["CAMPAIGN_MAX_DURATION"] // 86400))
        cleaned["duration_days"] = _whole(data, "duration_days", errors, minimum=1, maximum=longest,
                                          message=_("Enter a number of days from 1 to %(max)d.", max=longest))
    return cleaned, errors


# --- slugs ---------------------------------------------------------------------------

def slug_base(title):
    """An ASCII slug from the title ('' when nothing ASCII is left, e.g. a Chinese title)."""
    text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return text[:80].rstrip("-")


def _slug_taken(slug, project=None):
    query = select(Project.id).where(Project.slug == slug)
    if project is not None and project.id is not None:
        query = query.where(Project.id != project.id)
    return db.session.scalar(query.limit(1)) is not None


def unique_slug(title, project=None):
    base = slug_base(title)
    if not base:
        # Nothing ASCII to show (a Chinese title): keep an earlier random slug, or make one.
        if project is not None and project.slug and project.slug.startswith("project-"):
            return project.slug
        while True:
            slug = f"project-{secrets.token_hex(4)}"
            if not _slug_taken(slug, project):
                return slug
    slug, n = base, 2
    while _slug_taken(slug, project):
        slug, n = f"{base}-{n}", n + 1
    return slug


# --- creating and editing ------------------------------------------------------------

def _log_edit(user, project, field, old, new):
    db.session.add(ProjectEdit(project_id=project.id, user_id=user.id, field=field,
                               old_value="" if old is None else str(old), new_value="" if new is None else str(new)))


def _require_status(project, allowed, message):
    if project.status not in allowed:
        raise ValidationError(message, code="locked")


@use_case
def create_project(user, firm, kind, data, *, equity=None, minor_units=False):
    """A new draft. `equity`: the equity terms too (see `set_equity_terms`), all or nothing."""
    if not firm.has_member(user):
        raise PermissionDenied(_("You can only start projects for firms you belong to."))
    if kind not in {k.value for k in ProjectKind}:
        raise ValidationError(_("Choose a reward or an equity project."),
                              fields={"kind": _("Choose a reward or an equity project.")})
    wanted = {key: data.get(key) for key in BASIC_FIELDS}
    cleaned, errors = _clean_basics(wanted, minor_units=minor_units)
    _raise(errors)
    project = Project(firm=firm, created_by_id=user.id, kind=kind, status=S.DRAFT.value,
                      slug=unique_slug(cleaned["title"]), **cleaned)
    project.description_html = render_markdown(project.description)
    db.session.add(project)
    db.session.flush()
    if equity is not None:
        set_equity_terms(user, project, equity, minor_units=minor_units)
    return project


@use_case
def update_project(user, project, data, *, equity=None, minor_units=False):
    """Change the basic fields present in `data` (see the module's editing rules), and the
    equity terms when `equity` is given (see `set_equity_terms`), all or nothing."""
    require_member(user, project)
    if project.status not in EDITABLE | STORY_EDITABLE:
        raise ValidationError(_("This project is %(status)s, so it cannot be edited now.",
                                status=PROJECT_STATUS_WORDS[S(project.status)]), code="locked")
    present = {key: data[key] for key in BASIC_FIELDS if key in data}
    cleaned, errors = _clean_basics(present, current_currency=project.currency, minor_units=minor_units)
    locked = project.status in STORY_EDITABLE
    if not locked and cleaned.get("currency") not in (None, project.currency) and (project.tiers or project.equity):
        errors["currency"] = _("Remove the rewards and equity terms before changing the currency: their "
                               "prices are in %(currency)s.", currency=project.currency)
    if locked:
        for key in LOCKED_AFTER_APPROVAL:
            if key in cleaned and key not in errors and cleaned[key] != getattr(project, key):
                errors[key] = str(LOCKED_MESSAGES[key])
        for key in ("description", "risks", "use_of_funds"):
            if key in cleaned and not cleaned[key] and key not in errors:
                errors[key] = _("This cannot be emptied after approval.")
    _raise(errors)
    for key, value in cleaned.items():
        old = getattr(project, key)
        if value == old:
            continue
        if locked:
            _log_edit(user, project, key, old, value)
        setattr(project, key, value)
        if key == "title":
            project.slug = unique_slug(value, project)
        if key == "description":
            project.description_html = render_markdown(value)
    db.session.flush()
    if equity is not None:
        set_equity_terms(user, project, equity, minor_units=minor_units)
    return project


# --- reward tiers ----------------------------------------------------------------------

def _month_ok(value):
    if not re.fullmatch(r"\d{4}-\d{2}", value):
        return False
    year, month = int(value[:4]), int(value[5:])
    return 1 <= month <= 12 and 2000 <= year <= 2200


def _clean_tier(data, currency, *, minor_units=False):
    errors = {}
    cleaned = {
        "title": _text(data, "title", errors, required_message=_("Give the reward a title."), max_length=120,
                       label=_("The title")),
        "description": _text(data, "description", errors, max_length=5000, label=_("The description")),
        "price": _amount(data, "price", currency, errors, required_message=_("Enter the reward's price."),
                         minor_units=minor_units),
        "quantity": _whole(data, "quantity", errors, minimum=1, maximum=MAX_COUNT,
                           message=_("Enter how many are available (at least 1), or leave it empty for no limit.")),
        "per_backer_limit": _whole(data, "per_backer_limit", errors, minimum=1, maximum=MAX_COUNT,
                                   message=_("Enter a limit of at least 1, or leave it empty.")),
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
    shipping = (data.get("shipping") or "none").strip()
    if shipping not in SHIPPING_KINDS:
        errors["shipping"] = _("Choose no shipping, domestic or worldwide.")
    cleaned["shipping"] = shipping
    fee_raw = data.get("shipping_fee")
    if fee_raw is None or str(fee_raw).strip() == "":
        fee_raw = 0 if minor_units else "0"
    cleaned["shipping_fee"] = _amount({"shipping_fee": fee_raw}, "shipping_fee", currency, errors,
                                      required_message="", positive=False, minor_units=minor_units)
    if shipping == "none" and cleaned["shipping_fee"]:
        errors["shipping_fee"] = _("There is no shipping fee when nothing is shipped.")
    for key in ("available_from", "available_until"):
        value = data.get(key) or None
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            raise TypeError(f"{key} must be an aware datetime")
        cleaned[key] = value.astimezone(timezone.utc) if value else None
    if cleaned["available_from"] and cleaned["available_until"] \
            and cleaned["available_until"] <= cleaned["available_from"]:
        errors["available_until"] = _("The end of the availability window must be after its start.")
    return cleaned, errors


def _tier_project_check(project):
    if project.kind != ProjectKind.REWARD.value:
        raise ValidationError(_("Only reward projects have reward tiers."))
    _require_status(project, EDITABLE | STORY_EDITABLE,
                    _("This project is %(status)s, so its rewards cannot change.",
                      status=PROJECT_STATUS_WORDS[S(project.status)]))


def _lock_tier(tier):
    """Re-read the tier under a row lock (PostgreSQL): pledges change `sold` concurrently."""
    query = select(RewardTier).where(RewardTier.id == tier.id).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalar(query)


@use_case
def add_tier(user, project, data, *, minor_units=False):
    require_member(user, project)
    _tier_project_check(project)
    cleaned, errors = _clean_tier(data, project.currency, minor_units=minor_units)
    _raise(errors)
    position = db.session.scalar(select(func.coalesce(func.max(RewardTier.position), 0))
                                 .where(RewardTier.project_id == project.id)) + 1
    tier = RewardTier(project=project, position=position, **cleaned)
    db.session.add(tier)
    db.session.flush()
    if project.status in STORY_EDITABLE:
        _log_edit(user, project, f"tier {tier.id} added", "", f"{tier.title} ({tier.price} {project.currency})")
    db.session.flush()
    return tier


@use_case
def update_tier(user, tier, data, *, minor_units=False):
    project = tier.project
    require_member(user, project)
    _tier_project_check(project)
    cleaned, errors = _clean_tier(data, project.currency, minor_units=minor_units)
    locked = project.status in STORY_EDITABLE
    if locked:
        tier = _lock_tier(tier)
        if tier.sold > 0:
            for key, value in cleaned.items():
                if key != "quantity" and key not in errors and value != getattr(tier, key):
                    errors[key] = _("This reward already has backers, so only its quantity can change (upwards).")
            new_quantity = cleaned["quantity"]
            if "quantity" not in errors and tier.quantity is not None and new_quantity is not None \
                    and new_quantity < tier.quantity:
                errors["quantity"] = _("This reward already has backers, so its quantity can only go up "
                                       "(it is %(num)d).", num=tier.quantity)
            if "quantity" not in errors and tier.quantity is None and new_quantity is not None:
                errors["quantity"] = _("This reward already has backers and no limit; a limit cannot be added now.")
    _raise(errors)
    for key, value in cleaned.items():
        old = getattr(tier, key)
        if value != old:
            if locked:
                _log_edit(user, project, f"tier {tier.id} {key}", old, value)
            setattr(tier, key, value)
    db.session.flush()
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
        _log_edit(user, project, f"tier {tier.id} removed", tier.title, "")
    project.tiers.remove(tier)
    db.session.delete(tier)
    db.session.flush()


# --- equity terms ----------------------------------------------------------------------

def max_raise(project):
    """The most an equity offering can raise: every share offered, at its price."""
    offering = project.equity
    return offering.price_per_share * offering.shares_offered if offering else None


@use_case
def set_equity_terms(user, project, data, *, minor_units=False):
    require_member(user, project)
    if project.kind != ProjectKind.EQUITY.value:
        raise ValidationError(_("Only equity projects have equity terms."))
    _require_status(project, EDITABLE, _("The equity terms are locked once the project is submitted and approved."))
    errors = {}
    currency = project.currency
    security_type = (data.get("security_type") or "ordinary_shares").strip()
    if security_type not in SECURITY_TYPES:
        errors["security_type"] = _("Only ordinary shares can be offered.")
    price = _amount(data, "price_per_share", currency, errors, required_message=_("Enter the price per share."),
                    minor_units=minor_units)
    offered = _whole(data, "shares_offered", errors, required_message=_("Enter how many shares are offered."),
                     maximum=MAX_SHARES)
    min_shares = _whole(data, "min_shares", errors, required_message=_("Enter the minimum investment in shares."),
                        maximum=MAX_SHARES)
    valuation = _amount(data, "pre_money_valuation", currency, errors,
                        required_message=_("Enter the pre-money valuation."), minor_units=minor_units)
    outstanding = _whole(data, "shares_outstanding", errors,
                         required_message=_("Enter the number of shares that exist before the offering."),
                         maximum=MAX_SHARES)
    if offered and min_shares and min_shares > offered:
        errors["min_shares"] = _("The minimum investment cannot be more shares than are offered.")
    if price and offered and project.goal > price * offered:
        errors["shares_offered"] = _("Selling every share offered at this price would not reach the goal; "
                                     "offer more shares, raise the price or lower the goal.")
    if price and outstanding and valuation and abs(valuation - price * outstanding) > outstanding:
        errors["pre_money_valuation"] = _("The pre-money valuation must equal the price per share times the "
                                          "shares outstanding before the offering.")
    _raise(errors)
    offering = project.equity or EquityOffering(project=project)
    offering.security_type = security_type
    offering.price_per_share = price
    offering.shares_offered = offered
    offering.min_shares = min_shares
    offering.pre_money_valuation = valuation
    offering.shares_outstanding = outstanding
    offering.shares_committed = offering.shares_committed or 0
    db.session.add(offering)
    db.session.flush()
    return offering


# --- documents -------------------------------------------------------------------------

def upload_dir():
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def document_path(document):
    return upload_dir() / document.stored_name


def _max_bytes(kind):
    if kind == "cover":
        return current_app.config.get("UPLOAD_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES)
    return current_app.config.get("UPLOAD_MAX_DOCUMENT_BYTES", DEFAULT_MAX_DOCUMENT_BYTES)


@use_case
def upload_document(user, project, kind, filename, content_type, stream):
    """Store an uploaded cover image or disclosure document.

    The declared content type must be allowed for the kind AND the file's first bytes must
    show that same type; the size is capped. The file is saved under instance/uploads/ with
    a random name. Earlier uploads of the same kind stay as history; the newest one counts.
    """
    require_member(user, project)
    if kind not in DOCUMENT_KINDS:
        raise ValidationError(_("Choose what kind of document this is."),
                              fields={"kind": _("Choose what kind of document this is.")})
    if kind in DISCLOSURE_KINDS:
        if project.kind != ProjectKind.EQUITY.value:
            raise ValidationError(_("Only equity projects have disclosure documents."),
                                  fields={"kind": _("Only equity projects have disclosure documents.")})
        _require_status(project, EDITABLE, _("Disclosure documents are locked once the project is submitted."))
    else:
        _require_status(project, EDITABLE | STORY_EDITABLE,
                        _("This project is %(status)s, so it cannot be edited now.",
                          status=PROJECT_STATUS_WORDS[S(project.status)]))
    allowed = DOCUMENT_KINDS[kind]

    def refuse(message):
        raise ValidationError(message, fields={"file": message})

    declared = normalise_content_type(content_type)
    if declared not in allowed:
        refuse(str(WRONG_TYPE[kind]))
    limit = _max_bytes(kind)
    content = stream.read(limit + 1)
    if not content:
        refuse(_("The file is empty."))
    if len(content) > limit:
        refuse(_("The file is too large: at most %(size)s MB.", size=f"{limit / 1024 / 1024:.3g}"))
    actual = sniff(content[:32])
    if actual != declared:
        refuse(str(NOT_REALLY[kind]))
    stored_name = secrets.token_urlsafe(24) + extension(actual)
    name = Path((filename or "").replace("\\", "/")).name.strip()[:200] or f"{kind}{extension(actual)}"
    previous = current_documents(project).get(kind)
    document = ProjectDocument(project=project, kind=kind, filename=name, stored_name=stored_name,
                               content_type=actual, size=len(content),
                               sha256=hashlib.sha256(content).hexdigest(), uploaded_by_id=user.id)
    db.session.add(document)
    # The file is written before the commit; if the transaction rolls back it is an orphan
    # on disk with a random name, never a row pointing at a missing file.
    path = upload_dir() / stored_name
    with open(path, "xb") as out:
        out.write(content)
    if project.status in STORY_EDITABLE:
        _log_edit(user, project, kind, previous.filename if previous else "", name)
    db.session.flush()
    return document


# --- submission ------------------------------------------------------------------------

def submission_problems(project):
    """What is missing before the project can be reviewed: {item: message}, empty when ready."""
    problems = {}
    firm = project.firm
    registration = registration_number_problem(firm.country, firm.registration_number)
    if registration:
        problems["firm"] = _("The firm's registration number is not valid (%(problem)s) "
                             "Correct it on the firm's page.", problem=registration)
    if not (project.description or "").strip():
        problems["description"] = _("Describe the project.")
    if not (project.risks or "").strip():
        problems["risks"] = _("Describe the risks and challenges.")
    if not (project.use_of_funds or "").strip():
        problems["use_of_funds"] = _("Explain how the money will be used.")
    if project.kind == ProjectKind.REWARD.value:
        if not project.tiers:
            problems["tiers"] = _("Add at least one reward tier.")
    else:
        if project.equity is None:
            problems["equity"] = _("Enter the equity terms (price per share, shares offered and the rest).")
        elif project.goal > max_raise(project):
            problems["goal"] = _("The goal is more than selling every share offered would raise.")
        documents = current_documents(project)
        for kind in DISCLOSURE_KINDS:
            if kind not in documents:
                problems[kind] = str(UPLOAD_MISSING[kind])
    return problems


@use_case
def submit(user, project):
    require_member(user, project)
    account_standing.require_may_transact(user)
    project = lock(project)
    if not can_move(project, S.IN_REVIEW):
        transition(project, S.IN_REVIEW)  # raises IllegalTransition with the usual message
    problems = submission_problems(project)
    if problems:
        raise ValidationError(_("This project is not ready for review yet:") + " " + " ".join(problems.values()),
                              code="incomplete", fields=problems)
    transition(project, S.IN_REVIEW, actor=user, note="Submitted for review.")
    db.session.flush()
    return project
