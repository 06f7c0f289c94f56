"""What a campaign's public page says beyond its own columns: why it ended, and which
campaigns and firms have a public page at all (for the sitemap)."""

from sqlalchemy import select

from ..extensions import db
from ..models import Project, ProjectStatus as S, StateChange
from .projects.access import VIEWABLE

# The outcomes whose page says why: the founder's or the administrators' note, as written.
EXPLAINED = (S.CANCELLED.value, S.SUSPENDED.value)
SITEMAP_LIMIT = 50_000  # the most URLs one sitemap file may list (sitemaps.org)


def end_reason(project):
    """Why a cancelled or suspended campaign ended (the note of its audit row); None otherwise."""
    if project.status not in EXPLAINED:
        return None
    return (
        db.session.scalar(
            select(StateChange.note)
            .where(
                StateChange.entity == "project",
                StateChange.entity_id == project.id,
                StateChange.to_state == project.status,
            )
            .order_by(StateChange.id.desc())
            .limit(1)
        )
        or None
    )


def public_campaigns():
    """(slug, last change) of every campaign with a public page (live and ended), newest first."""
    return db.session.execute(
        select(Project.slug, Project.updated_at)
        .where(Project.status.in_(sorted(VIEWABLE)))
        .order_by(Project.updated_at.desc(), Project.id.desc())
        .limit(SITEMAP_LIMIT)
    ).all()


def public_firm_ids():
    """The firms with a public profile: those with a campaign that has a public page."""
    return db.session.scalars(
        select(Project.firm_id)
        .distinct()
        .where(Project.status.in_(sorted(VIEWABLE)))
        .order_by(Project.firm_id)
        .limit(SITEMAP_LIMIT)
    ).all()
