"""Updates: news a founder posts to the people backing a campaign.

The body is Markdown, rendered and sanitised once when posted (`domain.markup`), so the
page shows stored, safe HTML. The Markdown is kept too: it is the text of the mail every
backer gets (`announce_pending`, the `announce_updates` job started after the commit).
"""
import logging

from flask_babel import gettext as _
from sqlalchemy import select

from ..domain.markup import render_markdown
from ..errors import ValidationError
from ..extensions import db
from ..jobs import sweep_after_commit
from ..jobs.mail import deliver_queued_mail
from ..models import Pledge, PledgeStatus as PS, ProjectStatus as S, ProjectUpdate, utcnow
from . import notifications, use_case
from .projects import require_member

log = logging.getLogger(__name__)

# From approval (backers-to-be can follow along once it is live) to the end of the campaign and after.
POSTABLE = {S.APPROVED.value, S.LIVE.value, S.SUCCESSFUL.value, S.FAILED.value}
TITLE_MAX = 200
BODY_MAX = 20_000
# Who is mailed an update: everyone whose money the campaign held (not a cancelled pledge,
# nor one that never went through).
AUDIENCE = (PS.HELD.value, PS.RELEASED.value, PS.REFUNDED.value)
ANNOUNCE_BATCH = 500  # messages rendered and inserted at a time


def can_post(project):
    return project.status in POSTABLE


@use_case
def post_update(user, project, title, body):
    """Publish an update on `project` by `user` (a member of its firm). Returns the update.

    Once the caller commits, the update is mailed to the campaign's backers (`announce_pending`)."""
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
    update = ProjectUpdate(project=project, author_id=user.id, title=title, body=body,
                           body_html=render_markdown(body))
    db.session.add(update)
    db.session.flush()
    sweep_after_commit("announce_updates", db.session)
    return update


def announce_pending(*, batch_size=ANNOUNCE_BATCH):
    """Queue the mail of every update not announced yet, to its campaign's backers.

    A job: call it with nothing uncommitted. Each update is one transaction (locked with
    SKIP LOCKED, so two workers never announce the same one): its messages, in batches,
    and `announced_at`; then delivery starts. An update that fails (or a run that dies) is
    redone whole by the next run, so nobody gets an update twice or not at all, and one
    that keeps failing does not hold up the others. Returns how many updates it announced."""
    announced, after = 0, 0
    while True:
        update = db.session.scalar(
            select(ProjectUpdate).where(ProjectUpdate.announced_at.is_(None), ProjectUpdate.id > after)
            .order_by(ProjectUpdate.id).limit(1).with_for_update(skip_locked=True))
        if update is None:
            db.session.commit()
            return announced
        after = update.id
        try:
            _mail_backers(update, batch_size)
            update.announced_at = utcnow()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("update %s: its mail could not be queued; the next run tries again", after)
            continue
        deliver_queued_mail()
        announced += 1


def _mail_backers(update, batch_size):
    backer_ids = db.session.scalars(
        select(Pledge.backer_id).where(Pledge.project_id == update.project_id, Pledge.status.in_(AUDIENCE))
        .distinct().order_by(Pledge.backer_id)).all()
    for start in range(0, len(backer_ids), batch_size):
        notifications.project_update(update, backer_ids[start:start + batch_size])
