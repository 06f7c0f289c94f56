"""Finding campaigns: search, filters, sorting and pages (the API's project list; the web
discover page can use the same function).

What a viewer may see: public campaigns (live, successful, failed) for everyone; admins
see every project; a founder also sees every project of their own firms. With no
`status` filter the list shows public campaigns only; a `status` filter narrows to that
status within what the viewer may see (so `status=draft` lists a founder's own drafts,
and nothing for anyone else).

Index use: every filter is an equality (or IN) on a plain column, never a function of a
column, so `status` (and `status, deadline` for the "ending soon" order) come from
`ix_projects_status_deadline` (`ix_projects_status_category_deadline` with a category,
`ix_projects_status_launched_at` for "newest") and the firm filter from `ix_projects_firm_id`.
"Most funded" sorts the matches: an index on the pledged total would cost every pledge
(its row update could no longer be HOT) more than it saves this order. The text
search is a case-insensitive substring match (ILIKE) on title, summary and the firm's name;
on PostgreSQL each of the three has a pg_trgm index, and the planner joins the three
bitmaps (see `in_subquery` for the firm's branch) instead of reading every project.

Counting every match is the dearest part of a broad listing, so it is done only when it is
asked for and cannot be known otherwise: a page fetches one row more than it shows to tell
whether a next page exists, and the last page knows the total from its own position.
"""

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import defer, selectinload

from ..database import in_subquery
from ..errors import ValidationError
from ..extensions import db
from ..models import Firm, FirmMember, Project, ProjectKind, ProjectStatus
from .projects.access import PUBLIC
from .projects.basics import CATEGORIES

SORTS = ("newest", "ending_soon", "most_funded")
STATUSES = tuple(s.value for s in ProjectStatus)
KINDS = tuple(k.value for k in ProjectKind)
MAX_PER_PAGE = 100
MAX_PAGE = 10_000
MAX_QUERY_LENGTH = 100
# Left unread (loaded if touched): neither a card nor the API's summary shows them.
LONG_TEXTS = (
    defer(Project.description),
    defer(Project.description_html),
    defer(Project.risks),
    defer(Project.use_of_funds),
)


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    per_page: int
    total: int | None  # None: more than this page, and not counted (`count=False`)
    has_next: bool


def _escape_like(text):
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _visible(viewer):
    """The condition for projects `viewer` may see (None: anonymous)."""
    if viewer is not None and getattr(viewer, "is_admin", False):
        return None
    public = Project.status.in_(sorted(PUBLIC))
    if viewer is None or getattr(viewer, "id", None) is None:
        return public
    own_firms = select(FirmMember.firm_id).where(FirmMember.user_id == viewer.id)
    return or_(public, Project.firm_id.in_(own_firms))


def search_projects(
    q=None, kind=None, status=None, category=None, sort=None, page=1, per_page=20, *, viewer=None, count=True
):
    """A page of projects matching the filters that `viewer` may see (see the module docstring).

    Each project comes with its firm and documents loaded (what a card shows), without its long
    texts. `count=False`: leave `total` None when the matches go on past this page, rather than
    counting them all."""
    errors = {}
    q = (q or "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        errors["q"] = f"Search for at most {MAX_QUERY_LENGTH} characters."
    if kind not in (None, "") and kind not in KINDS:
        errors["kind"] = "Choose reward or equity."
    if status not in (None, "") and status not in STATUSES:
        errors["status"] = "That is not a project status."
    if category not in (None, "") and category not in CATEGORIES:
        errors["category"] = "Choose a category from the list."
    sort = sort or "newest"
    if sort not in SORTS:
        errors["sort"] = f"Sort by one of: {', '.join(SORTS)}."
    if type(page) is not int or not 1 <= page <= MAX_PAGE:
        errors["page"] = f"Choose a page from 1 to {MAX_PAGE}."
    if type(per_page) is not int or not 1 <= per_page <= MAX_PER_PAGE:
        errors["per_page"] = f"Choose from 1 to {MAX_PER_PAGE} results per page."
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)

    conditions = []
    visible = _visible(viewer)
    if visible is not None:
        conditions.append(visible)
    if status:
        conditions.append(Project.status == status)
    else:
        conditions.append(Project.status.in_(sorted(PUBLIC)))
    if kind:
        conditions.append(Project.kind == kind)
    if category:
        conditions.append(Project.category == category)
    if q:
        pattern = f"%{_escape_like(q)}%"
        firm_matches = select(Firm.id).where(Firm.legal_name.ilike(pattern, escape="\\"))
        conditions.append(
            or_(
                Project.title.ilike(pattern, escape="\\"),
                Project.summary.ilike(pattern, escape="\\"),
                in_subquery(Project.firm_id, firm_matches),
            )
        )

    if sort == "ending_soon":
        order = (Project.deadline.asc().nulls_last(), Project.id.asc())
    elif sort == "most_funded":
        order = (Project.pledged_amount.desc(), Project.id.desc())
    else:
        # Public campaigns have all been launched: their order needs no NULLS LAST, and without
        # it comes straight from `ix_projects_status_launched_at`.
        launched = Project.launched_at.desc() if status in PUBLIC else Project.launched_at.desc().nulls_last()
        order = (launched, Project.created_at.desc(), Project.id.desc())
    offset = (page - 1) * per_page
    rows = db.session.scalars(
        select(Project)
        .where(*conditions)
        .order_by(*order)
        .options(selectinload(Project.firm), selectinload(Project.documents), *LONG_TEXTS)
        .limit(per_page + 1)
        .offset(offset)
    ).all()
    items, has_next = list(rows[:per_page]), len(rows) > per_page
    if not has_next and (items or page == 1):
        total = offset + len(items)
    elif count:
        total = db.session.scalar(select(func.count()).select_from(Project).where(*conditions))
    else:
        total = None
    return Page(items=items, page=page, per_page=per_page, total=total, has_next=has_next)
