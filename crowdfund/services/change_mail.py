"""Mail about a campaign's changes after approval (services/change_history.py).

`announce(project, edits)`, called by the editing use cases once they have logged a save's
changes (one message per save, however many fields it changed):

- every backer with a pledge held in escrow gets a summary of what changed, in their own
  language, with the link that stops this kind of mail (`KIND`, services/mail_choices.py);
- when the risks, the use of funds or the documents changed, every administrator is asked
  to look at the campaign (it stays live meanwhile) with a link to the queue.

Messages are written to the outbox in the caller's transaction (delivered after its commit),
once per dedupe key (the save's first change).
"""

from flask_babel import get_locale, gettext as _
from sqlalchemy import select

from ..domain.text_diff import changed_parts
from ..extensions import db
from ..models import Pledge, PledgeStatus, User
from . import change_history, mail_choices
from .mail_outbox import _queue_many, _queue_one

KIND = "project_changes"
# Whose money the campaign holds now: they rely on what it says.
AUDIENCE = (PledgeStatus.HELD.value,)
BATCH = 500  # messages rendered and inserted at a time
EXCERPT_MAX = 300  # characters of text taken out or put in, per change, in a mail


class Digest:
    """The save's changes as the mail lists them, described once per language (the templates
    are rendered with each recipient's language in force)."""

    def __init__(self, project, edits):
        self.project, self.edits, self._by_locale = project, edits, {}

    def items(self):
        key = str(get_locale() or "en")
        if key not in self._by_locale:
            self._by_locale[key] = [self._item(change_history.describe(e, self.project)) for e in self.edits]
        return self._by_locale[key]

    @staticmethod
    def _item(change):
        """A short text is quoted whole, before and after; a long one by the words taken out
        and put in."""
        item = {"section": change.section_label, "summary": change.summary}
        if change.diff is None:
            return item
        old, new = change.edit.old_value or "", change.edit.new_value or ""
        if len(old) <= EXCERPT_MAX and len(new) <= EXCERPT_MAX:
            return {**item, "before": " ".join(old.split()) or "—", "after": " ".join(new.split()) or "—"}
        taken, put = changed_parts(change.diff)
        return {**item, "taken": _excerpt(taken), "put": _excerpt(put)}


def _excerpt(parts):
    text = " … ".join(" ".join(p.split()) for p in parts if p.strip())
    return text if len(text) <= EXCERPT_MAX else text[: EXCERPT_MAX - 1] + "…"


def announce(project, edits):
    """Mail the save's `edits` (ProjectEdit rows, flushed) to the backers and, when one of them
    waits for a look, to the administrators."""
    if not edits:
        return
    edits = sorted(edits, key=lambda e: e.id)
    digest = Digest(project, edits)
    link = mail_choices.external_url("projects.show", slug=project.slug) + "#changes"
    _to_backers(project, edits[0].id, digest, link)
    if any(edit.needs_review for edit in edits):
        _to_admins(project, edits[0].id, digest)


def _to_backers(project, first_id, digest, link):
    backers = db.session.execute(
        select(User.id, User.email, User.name, User.locale, User.timezone)
        .where(
            User.id.in_(select(Pledge.backer_id).where(Pledge.project_id == project.id, Pledge.status.in_(AUDIENCE))),
            User.deleted_at.is_(None),
            User.suspended_at.is_(None),
        )
        .order_by(User.id)
    ).all()

    def subject():
        return _("What changed on %(title)s, a campaign you back", title=project.title)

    context = {"project": project, "digest": digest, "link": link}
    for start in range(0, len(backers), BATCH):
        _queue_many(
            [
                (f"project_changes:{first_id}:{backer.id}", backer, "mail/campaign_changed.txt", subject, context)
                for backer in backers[start : start + BATCH]
            ],
            kind=KIND,
        )


def _to_admins(project, first_id, digest):
    admins = db.session.scalars(
        select(User).where(User.is_admin.is_(True), User.deleted_at.is_(None)).order_by(User.id)
    ).all()
    link = mail_choices.external_url("admin.change_review", project_id=project.id)
    for admin in admins:
        _queue_one(
            f"change_review:{first_id}:{admin.id}",
            admin,
            "mail/campaign_changed_admin.txt",
            lambda: _("%(title)s changed after approval: please look at it", title=project.title),
            project=project,
            digest=digest,
            link=link,
        )
