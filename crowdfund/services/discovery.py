"""Finding public campaigns.

TEMPORARY STUB (branch `ux`): the JSON API helper owns the real `search_projects`; this
stand-in only has the agreed signature so the discover page can be built and tested.
Replace this file with theirs at merge.
"""
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Firm, Project, ProjectStatus as S

PUBLIC_STATUSES = (S.LIVE.value, S.SUCCESSFUL.value, S.FAILED.value)
SORTS = ("ending_soon", "most_funded", "newest")


def search_projects(q=None, kind=None, status=None, category=None, sort="ending_soon", page=1, per_page=12):
    """(projects on this page, how many match in all). Only public campaigns are ever returned."""
    query = select(Project).join(Firm, Firm.id == Project.firm_id)
    if status in PUBLIC_STATUSES:
        query = query.where(Project.status == status)
    else:
        query = query.where(Project.status.in_(PUBLIC_STATUSES))
    if kind in ("reward", "equity"):
        query = query.where(Project.kind == kind)
    if category:
        query = query.where(Project.category == category)
    if q and q.strip():
        like = "%" + q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(Project.title).like(like, escape="\\"),
                                func.lower(Project.summary).like(like, escape="\\"),
                                func.lower(Firm.legal_name).like(like, escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    if sort == "most_funded":
        order = (Project.pledged_amount.desc(), Project.id.desc())
    elif sort == "newest":
        order = (Project.launched_at.desc(), Project.id.desc())
    else:
        order = (Project.deadline.asc(), Project.id.asc())
    page = max(int(page or 1), 1)
    items = db.session.scalars(query.order_by(*order).offset((page - 1) * per_page).limit(per_page)).all()
    return items, total
