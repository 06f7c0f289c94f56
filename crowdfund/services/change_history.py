"""What changed on a campaign after its approval: the public "Changes" list, and the changes
an administrator looks at while the campaign stays live.

Every change the founders make once backers may rely on a campaign (approved or live) is a
`ProjectEdit` row (services/projects/editing.py `log_edit`): the story, the risks, the use of
funds, the rewards, the equity terms (an offering closing early) or the documents. Here they
are read back:

- `edits_of(project)`: the rows, newest first (the seam for other readers, e.g. a founder or
  administrator marking one of them as a material change);
- `public_changes(project)`: the campaign page's and the API's list: each change's section,
  a sentence saying what changed, and for texts the words taken out and put in;
- `awaiting_look()` / `pending_review(project)` / `mark_looked_at(...)`: the administrators'
  queue. Changes to the risks, the use of funds or the documents (`LOOKED_AT`) wait there
  until an administrator marks them looked at (an audit row) or suspends the campaign
  through the usual suspension.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import bindparam, func, select

from ..domain.money import format_money, page_locale
from ..domain.text_diff import inline_diff
from ..errors import Conflict, ValidationError
from ..extensions import db
from ..models import Project, ProjectEdit, StateChange, utcnow
from . import use_case
from .projects.access import STORY_EDITABLE
from .reviews import require_admin

# The sections of a campaign a change can be in, in the order the page names them.
SECTIONS = {
    "story": _l("Story"),
    "risks": _l("Risks and challenges"),
    "use_of_funds": _l("Use of funds"),
    "tiers": _l("Rewards"),
    "equity": _l("Equity terms"),
    "documents": _l("Documents"),
    "other": _l("Other"),
}
LOOKED_AT = ("risks", "use_of_funds", "documents")  # sections whose changes an administrator looks at
TEXT_FIELDS = ("summary", "description", "risks", "use_of_funds")
DOCUMENT_FIELDS = ("cover", "business_plan", "financial_statements")
EQUITY_FIELDS = (
    "deadline",
    "security_type",
    "price_per_share",
    "shares_offered",
    "min_shares",
    "pre_money_valuation",
    "shares_outstanding",
)
PUBLIC_LIMIT = 100  # the newest changes a page or the API lists
NOTE_MAX = 2000
AUDIT_ENTITY = "project_changes"  # StateChange.entity of an administrator's look
_TIER_FIELD = re.compile(r"^tier (\d+) (.+)$")
_ADD_ON_FIELD = re.compile(r"^add-on (\d+) (.+)$")  # services/projects/add_ons.py: listed under "Rewards"
_TIER_ADDED = re.compile(r"^(.*) \((\d+) ([A-Z]{3})\)$")  # "<title> (<price in minor units> <currency>)"

TEXT_SUMMARIES = {
    "summary": _l("The one-line summary changed."),
    "description": _l("The story changed."),
    "risks": _l("The risks and challenges changed."),
    "use_of_funds": _l("The use of funds changed."),
}
TIER_FIELD_LABELS = {
    "title": _l("title"),
    "description": _l("description"),
    "price": _l("price"),
    "quantity": _l("quantity available"),
    "per_backer_limit": _l("limit per backer"),
    "estimated_delivery": _l("estimated delivery"),
    "shipping": _l("shipping"),
    "shipping_fee": _l("shipping fee"),
    "shipping_rates": _l("shipping fees"),
    "available_from": _l("available from"),
    "available_until": _l("available until"),
}
EQUITY_FIELD_LABELS = {
    "security_type": _l("security type"),
    "price_per_share": _l("price per share"),
    "shares_offered": _l("shares offered"),
    "min_shares": _l("minimum investment in shares"),
    "pre_money_valuation": _l("pre-money valuation"),
    "shares_outstanding": _l("shares outstanding"),
}
DOCUMENT_SUMMARIES = {
    "cover": _l("A new cover image."),
    "business_plan": _l("A new business plan: %(file)s."),
    "financial_statements": _l("New financial statements: %(file)s."),
}
MONEY_FIELDS = {"price", "shipping_fee", "price_per_share", "pre_money_valuation"}


def section_of(field):
    if field in ("summary", "description"):
        return "story"
    if field in ("risks", "use_of_funds"):
        return field
    if _TIER_FIELD.match(field) or _ADD_ON_FIELD.match(field):
        return "tiers"
    if field in DOCUMENT_FIELDS:
        return "documents"
    if field in EQUITY_FIELDS or field.startswith("equity"):
        return "equity"
    return "other"


def needs_look(field):
    return section_of(field) in LOOKED_AT


@dataclass
class Change:
    """One change as a person reads it."""

    edit: ProjectEdit
    section: str
    summary: str
    diff: list | None  # text changes: domain/text_diff.py segments; None otherwise

    @property
    def section_label(self):
        return str(SECTIONS[self.section])


# --- reading --------------------------------------------------------------------------------------

_EDITS = (
    select(ProjectEdit)
    .where(ProjectEdit.project_id == bindparam("project_id"))
    .order_by(ProjectEdit.created_at.desc(), ProjectEdit.id.desc())
    .limit(bindparam("limit"))
)


def edits_of(project, *, limit=PUBLIC_LIMIT):
    """The project's logged changes, newest first (one query on the project's index)."""
    return db.session.scalars(_EDITS, {"project_id": project.id, "limit": limit}).all()


def public_changes(project, *, limit=PUBLIC_LIMIT):
    """[Change] for the campaign page and the API, newest first; [] when nothing changed."""
    return [describe(edit, project) for edit in edits_of(project, limit=limit)]


def describe(edit, project):
    field, old, new = edit.field, edit.old_value or "", edit.new_value or ""
    section = section_of(field)
    diff = None
    if field in TEXT_FIELDS:
        summary = str(TEXT_SUMMARIES[field])
        diff = inline_diff(old, new)
    elif section == "tiers" and _ADD_ON_FIELD.match(field):
        summary, diff = _add_on_summary(field, old, new, project)
    elif section == "tiers":
        summary, diff = _tier_summary(field, old, new, project)
    elif section == "documents":
        summary = str(DOCUMENT_SUMMARIES[field]) % {"file": new}
    elif field == "deadline":
        # An early close moves it earlier; a material change (reconfirmation) later.
        if _time(new) > _time(old):
            summary = _(
                "The offering closes later: the deadline moved from %(old)s to %(new)s (UTC).",
                old=_time(old),
                new=_time(new),
            )
        else:
            summary = _(
                "The offering closes earlier: the deadline moved from %(old)s to %(new)s (UTC).",
                old=_time(old),
                new=_time(new),
            )
    elif section == "equity":
        what = EQUITY_FIELD_LABELS.get(field.removeprefix("equity_"), field)
        summary = _(
            "Equity terms: the %(what)s changed from %(old)s to %(new)s.",
            what=what,
            old=_value(field, old, project.currency),
            new=_value(field, new, project.currency),
        )
    else:
        summary = _("%(what)s changed.", what=field)
    return Change(edit=edit, section=section, summary=summary, diff=diff)


def _tier_summary(field, old, new, project):
    tier_id, what = _TIER_FIELD.match(field).groups()
    current = next((t.title for t in project.tiers if t.id == int(tier_id)), None)
    if what == "added":
        match = _TIER_ADDED.match(new)
        if match:
            title, price, currency = match.groups()
            price_text = format_money(int(price), currency, locale=page_locale())
            return _("A new reward: %(title)s, %(price)s.", title=title, price=price_text), None
        return _("A new reward: %(title)s.", title=new), None
    if what == "removed":
        return _("The reward %(title)s was removed.", title=old), None
    title = new if what == "title" else current or _("a reward")
    label = TIER_FIELD_LABELS.get(what, what)
    if what == "description":
        return _("Reward %(title)s: its description changed.", title=title), inline_diff(old, new)
    return _(
        "Reward %(title)s: the %(what)s changed from %(old)s to %(new)s.",
        title=title,
        what=label,
        old=_value(what, old, project.currency),
        new=_value(what, new, project.currency),
    ), None


def _add_on_summary(field, old, new, project):
    add_on_id, what = _ADD_ON_FIELD.match(field).groups()
    if what == "added":
        match = _TIER_ADDED.match(new)
        if match:
            title, price, currency = match.groups()
            price_text = format_money(int(price), currency, locale=page_locale())
            return _("A new add-on: %(title)s, %(price)s.", title=title, price=price_text), None
        return _("A new add-on: %(title)s.", title=new), None
    if what == "removed":
        return _("The add-on %(title)s was removed.", title=old), None
    if what == "title":
        title = new
    else:
        current = project.add_ons if project.has_add_ons else []
        title = next((a.title for a in current if a.id == int(add_on_id)), None) or _("an add-on")
    if what == "description":
        return _("Add-on %(title)s: its description changed.", title=title), inline_diff(old, new)
    return _(
        "Add-on %(title)s: the %(what)s changed from %(old)s to %(new)s.",
        title=title,
        what=TIER_FIELD_LABELS.get(what, what),
        old=_value(what, old, project.currency),
        new=_value(what, new, project.currency),
    ), None


def _value(field, raw, currency):
    """A logged value (stored as text) as a person reads it."""
    key = field.removeprefix("equity_")
    if raw in ("", "None"):
        return _("no limit") if key in ("quantity", "per_backer_limit") else _("none")
    if key in MONEY_FIELDS and raw.lstrip("-").isdigit():
        return format_money(int(raw), currency, locale=page_locale())
    if key in ("available_from", "available_until"):
        return _time(raw)
    if key == "shipping":
        return {"none": _("not shipped"), "domestic": _("domestic"), "worldwide": _("worldwide")}.get(raw, raw)
    return raw


def _time(raw):
    try:
        return f"{datetime.fromisoformat(raw):%Y-%m-%d %H:%M}"
    except ValueError:
        return raw


# --- the administrators' look -----------------------------------------------------------------------


def _awaiting():
    return (ProjectEdit.needs_review.is_(True)) & ProjectEdit.reviewed_at.is_(None)


def awaiting_look():
    """Campaigns (approved or live) with changes waiting for an administrator's look, the
    longest waiting first: [(project, number of changes, first changed at)]."""
    rows = db.session.execute(
        select(ProjectEdit.project_id, func.count(ProjectEdit.id), func.min(ProjectEdit.created_at))
        .join(Project, Project.id == ProjectEdit.project_id)
        .where(_awaiting(), Project.status.in_(sorted(STORY_EDITABLE)))
        .group_by(ProjectEdit.project_id)
        .order_by(func.min(ProjectEdit.created_at), ProjectEdit.project_id)
    ).all()
    projects = {p.id: p for p in db.session.scalars(select(Project).where(Project.id.in_([r[0] for r in rows])))}
    return [(projects[project_id], count, first) for project_id, count, first in rows]


def pending_review(project):
    """[Change] of `project` waiting for an administrator's look, oldest first."""
    edits = db.session.scalars(
        select(ProjectEdit).where(ProjectEdit.project_id == project.id, _awaiting()).order_by(ProjectEdit.id)
    ).all()
    return [describe(edit, project) for edit in edits]


@use_case
def mark_looked_at(admin, project, through_id, note=""):
    """`admin` looked at `project`'s waiting changes up to `through_id` (the newest one the
    page showed: one that arrived since waits for the next look). An audit row records who,
    when and the note. Returns how many changes were marked."""
    require_admin(admin)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        message = _("The note is too long (%(num)d characters at most).", num=NOTE_MAX)
        raise ValidationError(message, fields={"note": message})
    edits = db.session.scalars(
        select(ProjectEdit).where(ProjectEdit.project_id == project.id, _awaiting(), ProjectEdit.id <= through_id)
    ).all()
    if not edits:
        raise Conflict(_("No change of this campaign is waiting for a look."), code="nothing_to_look_at")
    now = utcnow()
    for edit in edits:
        edit.reviewed_at, edit.reviewed_by_id = now, admin.id
    ids = sorted(edit.id for edit in edits)
    db.session.add(
        StateChange(
            entity=AUDIT_ENTITY,
            entity_id=project.id,
            from_state="changed",
            to_state="looked_at",
            actor_id=admin.id,
            note=(f"changes {ids[0]}-{ids[-1]} ({len(ids)})" + (f": {note}" if note else "")),
        )
    )
    db.session.flush()
    return len(edits)
