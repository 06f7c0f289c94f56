"""Finding projects, and who may see or change them in which states."""

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ...errors import NotFound, PermissionDenied, ValidationError
from ...extensions import db
from ...models import Project, ProjectStatus as S, Review

EDITABLE = {S.DRAFT.value, S.CHANGES_REQUESTED.value}  # everything may change
STORY_EDITABLE = {S.APPROVED.value, S.LIVE.value}  # only the story may change (logged)
PUBLIC = {S.LIVE.value, S.SUCCESSFUL.value, S.FAILED.value}  # anyone may see the page; discovery lists it
# Cancelled and suspended campaigns keep their public page too (saying why), unlisted.
VIEWABLE = PUBLIC | {S.CANCELLED.value, S.SUSPENDED.value}


def get_project(project_id, *, options=()):
    project = db.session.get(Project, project_id, options=options)
    if project is None:
        raise NotFound(_("There is no such project."))
    return project


# Every view of a campaign page that is not cached runs it: built once (see services/pledges.py).
_PROJECT_PAGE = (
    select(Project)
    .where(Project.slug == bindparam("slug"))
    .options(
        joinedload(Project.firm), joinedload(Project.equity), joinedload(Project.tiers), joinedload(Project.documents)
    )
)


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
    if project.status in VIEWABLE:
        return True
    return is_member(user, project) or bool(getattr(user, "is_admin", False))


def require_member(user, project):
    if not is_member(user, project):
        raise PermissionDenied(_("Only the people of the project's firm can do that."))


def require_member_or_admin(user, project):
    """The firm's people and admins (e.g. the money statement); PermissionDenied otherwise."""
    if not (is_member(user, project) or bool(getattr(user, "is_admin", False))):
        raise PermissionDenied("Only the people of the project's firm and administrators can see that.")


def require_status(project, allowed, message):
    """ValidationError `locked` with `message` unless the project is in one of the `allowed` states."""
    if project.status not in allowed:
        raise ValidationError(message, code="locked")


def projects_for(user):
    """Every project of every firm `user` belongs to, newest first."""
    firm_ids = [m.firm_id for m in user.memberships]
    if not firm_ids:
        return []
    return db.session.scalars(
        select(Project).where(Project.firm_id.in_(firm_ids)).order_by(Project.created_at.desc(), Project.id.desc())
    ).all()


def latest_review(project):
    return db.session.scalar(
        select(Review)
        .where(Review.project_id == project.id)
        .order_by(Review.created_at.desc(), Review.id.desc())
        .limit(1)
    )
