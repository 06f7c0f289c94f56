"""Updates: news a founder posts to the people backing a campaign.

The body is Markdown, rendered and sanitised once when posted (`domain.markup`), so the
page shows stored, safe HTML. The Markdown is kept too: it is the text of the mail every
backer gets, once the `announce_updates` job started after the commit has queued it
(crowdfund/workflows/announcements.py).
"""

from flask_babel import gettext as _

from .. import after_commit
from ..domain.markup import render_markdown
from ..errors import ValidationError
from ..extensions import db
from ..models import ProjectStatus as S, ProjectUpdate
from . import use_case
from .projects.access import require_member

# From approval (backers-to-be can follow along once it is live) to the end of the campaign and after.
POSTABLE = {S.APPROVED.value, S.LIVE.value, S.SUCCESSFUL.value, S.FAILED.value}
TITLE_MAX = 200
BODY_MAX = 20_000


def can_post(project):
    return project.status in POSTABLE


@use_case
def post_update(user, project, title, body):
    """Publish an update on `project` by `user` (a member of its firm). Returns the update.

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
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    update = ProjectUpdate(project=project, author_id=user.id, title=title, body=body, body_html=render_markdown(body))
    db.session.add(update)
    db.session.flush()
    after_commit.start_sweep("announce_updates")
    return update
