"""A project's basics (title, category, currency, goal, planned duration) and its story
(summary, description, risks, use of funds): creating a draft and editing it. The module
docstring of the package says what may change in which state."""

import re
import secrets
import unicodedata

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from ...domain.markup import render_markdown
from ...domain.money import SUPPORTED_CURRENCIES
from ...domain.rulebooks import shortest_run
from ...errors import PermissionDenied, ValidationError
from ...extensions import db
from ...models import FundingModel, Project, ProjectKind, ProjectStatus as S, ReleaseModel
from .. import use_case
from ..transitions import PROJECT_STATUS_WORDS
from .access import EDITABLE, STORY_EDITABLE, require_member
from .editing import amount, announce_edits, log_edit, raise_errors, text, whole
from .equity_terms import set_equity_terms

CATEGORIES = ("design", "technology", "food", "publishing", "games", "crafts", "fashion", "film", "music", "community")

STORY_FIELDS = ("summary", "description", "risks", "use_of_funds")
BASIC_FIELDS = (
    "title",
    "category",
    "currency",
    "goal",
    "duration_days",
    "funding_model",
    "release_model",
) + STORY_FIELDS
LOCKED_AFTER_APPROVAL = ("title", "category", "currency", "goal", "duration_days", "funding_model", "release_model")

TEXT_LABELS = {
    "description": _l("The description"),
    "risks": _l("The risks and challenges"),
    "use_of_funds": _l("The use of funds"),
}
LOCKED_MESSAGES = {
    "title": _l("The title cannot change after approval: backers rely on it."),
    "category": _l("The category cannot change after approval: backers rely on it."),
    "currency": _l("The currency cannot change after approval: backers rely on it."),
    "goal": _l("The goal cannot change after approval: backers rely on it."),
    "duration_days": _l("The planned duration cannot change after approval: backers rely on it."),
    "funding_model": _l("The funding model cannot change after approval: backers rely on it."),
    "release_model": _l("When the firm is paid cannot change after approval: backers rely on it."),
}


def basics_as_input(project):
    """The basic fields as an editing form shows them (the goal in minor units)."""
    data = {
        key: getattr(project, key)
        for key in ("title", "category", "currency", "goal", "funding_model", "release_model") + STORY_FIELDS
    }
    data["duration_days"] = "" if project.duration_days is None else str(project.duration_days)
    return data


def progress_percent(project):
    return int(project.pledged_amount * 100 // project.goal) if project.goal else 0


def _clean_basics(data, current_currency=None, kind=None):
    """Clean the basic fields present in `data` (every one of them when creating)."""
    errors, cleaned = {}, {}
    if "title" in data:
        cleaned["title"] = text(
            data, "title", errors, required_message=_("Give the project a title."), max_length=120, label=_("The title")
        )
    if "summary" in data:
        cleaned["summary"] = text(
            data,
            "summary",
            errors,
            max_length=300,
            label=_("The summary"),
            required_message=_("Write a one-line summary of the project."),
        )
    for key in ("description", "risks", "use_of_funds"):
        if key in data:
            cleaned[key] = text(data, key, errors, max_length=50_000, label=TEXT_LABELS[key])
    if "category" in data:
        category = (data.get("category") or "").strip().lower()
        if category not in CATEGORIES:
            errors["category"] = _("Choose a category from the list.")
        cleaned["category"] = category
    currency = current_currency
    if "currency" in data:
        currency = (data.get("currency") or "").strip().upper()
        if currency not in SUPPORTED_CURRENCIES:
            errors["currency"] = _(
                "Choose one of the supported currencies: %(list)s.", list=", ".join(SUPPORTED_CURRENCIES)
            )
            currency = None
        cleaned["currency"] = currency
    if "goal" in data and currency:
        cleaned["goal"] = amount(data, "goal", currency, errors, required_message=_("Enter the funding goal."))
    if "funding_model" in data:
        cleaned["funding_model"] = clean_funding_model(data.get("funding_model"), kind, errors)
    if "release_model" in data:
        cleaned["release_model"] = clean_release_model(data.get("release_model"), kind, errors)
    if "duration_days" in data:
        # The plan only: the launch checks the real deadline against the configured window.
        # An equity offering's shortest run is its rulebook's (21 days under Reg CF).
        shortest = max(1, -(-shortest_run(kind or ProjectKind.REWARD.value, current_app.config) // 86400))
        longest = max(shortest, -(-current_app.config["CAMPAIGN_MAX_DURATION"] // 86400))
        cleaned["duration_days"] = whole(
            data,
            "duration_days",
            errors,
            minimum=shortest,
            maximum=longest,
            message=_("Enter a number of days from %(min)d to %(max)d.", min=shortest, max=longest),
        )
    return cleaned, errors


def clean_funding_model(value, kind, errors):
    """all_or_nothing (also for an empty value) or flexible; flexible only for reward campaigns."""
    model = (value or FundingModel.ALL_OR_NOTHING).strip().lower()
    if model not in FundingModel.ALL:
        errors["funding_model"] = _("Choose all-or-nothing or flexible funding.")
    elif model == FundingModel.FLEXIBLE and kind == ProjectKind.EQUITY.value:
        errors["funding_model"] = _(
            "Equity offerings are all-or-nothing: shares are issued only if the minimum raise is met."
        )
    return model


def clean_release_model(value, kind, errors):
    """at_success (also for an empty value) or on_delivery; on_delivery only for reward campaigns."""
    model = (value or ReleaseModel.AT_SUCCESS).strip().lower() if isinstance(value, str) or value is None else ""
    if model not in ReleaseModel.ALL:
        errors["release_model"] = _("Choose paid at success or released on delivery.")
    elif model == ReleaseModel.ON_DELIVERY and kind == ProjectKind.EQUITY.value:
        errors["release_model"] = _(
            "Release on delivery is for reward campaigns: an equity offering has no rewards to deliver."
        )
    return model


# --- slugs ---------------------------------------------------------------------------


def slug_base(title):
    """An ASCII slug from the title ('' when nothing ASCII is left, e.g. a Chinese title)."""
    ascii_text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode("ascii").lower()
    ascii_text = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return ascii_text[:80].rstrip("-")


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


@use_case
def create_project(user, firm, kind, data, *, equity=None):
    """A new draft. `equity`: the equity terms too (see `set_equity_terms`), all or nothing."""
    if not firm.has_member(user):
        raise PermissionDenied(_("You can only start projects for firms you belong to."))
    if kind not in {k.value for k in ProjectKind}:
        raise ValidationError(
            _("Choose a reward or an equity project."), fields={"kind": _("Choose a reward or an equity project.")}
        )
    wanted = {key: data.get(key) for key in BASIC_FIELDS}
    cleaned, errors = _clean_basics(wanted, kind=kind)
    raise_errors(errors)
    project = Project(
        firm=firm, created_by_id=user.id, kind=kind, status=S.DRAFT.value, slug=unique_slug(cleaned["title"]), **cleaned
    )
    project.description_html = render_markdown(project.description, story_images=True)
    db.session.add(project)
    db.session.flush()
    if equity is not None:
        set_equity_terms(user, project, equity)
    return project


@use_case
def update_project(user, project, data, *, equity=None):
    """Change the basic fields present in `data` (see the package's editing rules), and the
    equity terms when `equity` is given (see `set_equity_terms`), all or nothing."""
    require_member(user, project)
    if project.status not in EDITABLE | STORY_EDITABLE:
        raise ValidationError(
            _(
                "This project is %(status)s, so it cannot be edited now.",
                status=PROJECT_STATUS_WORDS[S(project.status)],
            ),
            code="locked",
        )
    present = {key: data[key] for key in BASIC_FIELDS if key in data}
    cleaned, errors = _clean_basics(present, current_currency=project.currency, kind=project.kind)
    locked = project.status in STORY_EDITABLE
    if not locked and cleaned.get("currency") not in (None, project.currency) and (project.tiers or project.equity):
        errors["currency"] = _(
            "Remove the rewards and equity terms before changing the currency: their prices are in %(currency)s.",
            currency=project.currency,
        )
    if locked:
        for key in LOCKED_AFTER_APPROVAL:
            if key in cleaned and key not in errors and cleaned[key] != getattr(project, key):
                errors[key] = str(LOCKED_MESSAGES[key])
        for key in ("description", "risks", "use_of_funds"):
            if key in cleaned and not cleaned[key] and key not in errors:
                errors[key] = _("This cannot be emptied after approval.")
    raise_errors(errors)
    edits = []
    for key, value in cleaned.items():
        old = getattr(project, key)
        if value == old:
            continue
        if locked:
            edits.append(log_edit(user, project, key, old, value))
        setattr(project, key, value)
        if key == "title":
            project.slug = unique_slug(value, project)
        if key == "description":
            project.description_html = render_markdown(value, story_images=True)
    db.session.flush()
    announce_edits(project, edits)
    if equity is not None:
        set_equity_terms(user, project, equity)
    return project
