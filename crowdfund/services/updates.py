"""Updates: news a founder posts to the people backing a campaign.

The body is Markdown, rendered and sanitised once when posted (`domain.markup`), so the
page shows stored, safe HTML. The Markdown is kept too: it is the text of the mail every
backer gets, once the `announce_updates` job started after the commit has queued it
(crowdfund/workflows/announcements.py).
"""

from flask_babel import gettext as _
from sqlalchemy import select

from .. import after_commit
from ..domain.markup import render_markdown
from ..errors import ValidationError
from ..extensions import db
from ..models import Pledge, PledgeStatus as PS, ProjectStatus as S, ProjectUpdate
from . import use_case
from .projects.access import is_member, require_member

# From approval (backers-to-be can follow along once it is live) to the end of the campaign and after.
POSTABLE = {S.APPROVED.value, S.LIVE.value, S.SUCCESSFUL.value, S.FAILED.value}
TITLE_MAX = 200
BODY_MAX = 20_000
# Who counts as a backer for a backers-only update: the people mailed it
# (workflows/announcements.py AUDIENCE).
READERS = (PS.HELD.value, PS.RELEASED.value, PS.REFUNDED.value)
# Who may read an update: everyone, or the campaign's backers (and its firm) only; everyone
# else sees its title and date, locked (`readable`). Backers are mailed it either way.
AUDIENCES = ("public", "backers")


def can_post(project):
    return project.status in POSTABLE


@use_case
def post_update(user, project, title, body, audience="public"):
    """Publish an update on `project` by `user` (a member of its firm), for `audience`
    (AUDIENCES). Returns the update.

    Once the caller commits, the update is mailed to the campaign's backers (`announce_updates`)."""
    require_member(user, project)
    if not can_post(project):
        raise ValidationError(_("Updates can be posted once the project is approved."), code="wrong_state")
    title = (title or "").strip()
    body = (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("Give the update a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("The title is too long (%(max)d characters at most).", max=TITLE_MAX)
    if not body:
        errors["body"] = _("Write the update.")
    elif len(body) > BODY_MAX:
        errors["body"] = _("The update is too long (%(max)d characters at most).", max=BODY_MAX)
    if audience not in AUDIENCES:
        errors["audience"] = _("Choose who may read the update: everyone, or backers only.")
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    update = ProjectUpdate(
        project=project,
        author_id=user.id,
        title=title,
        body=body,
        body_html=render_markdown(body, story_images=True),  # story images shown, as in the story
        audience=audience,
    )
    db.session.add(update)
    db.session.flush()
    after_commit.start_sweep("announce_updates")
    return update


def is_backer(user, project):
    """Does `user` have (or had) money in `project` (a pledge held, released or refunded)?"""
    return (
        db.session.scalar(
            select(Pledge.id)
            .where(Pledge.project_id == project.id, Pledge.backer_id == user.id, Pledge.status.in_(READERS))
            .limit(1)
        )
        is not None
    )


def readable(user, project, updates=None):
    """May `user` read `project`'s backers-only updates? Its firm's people and its backers may.
    Asks the database only for a signed-in person, and only when there is such an update."""
    updates = project.updates if updates is None else updates
    if not any(u.audience == "backers" for u in updates):
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(getattr(user, "is_admin", False)) or is_member(user, project) or is_backer(user, project)
