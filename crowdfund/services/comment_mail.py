"""Mail about a campaign's conversation, and the links that stop it.

- `new_question`: the firm's people, when someone outside the firm asks on its campaign;
- `answered`: the one who asked, when the firm answers.

Each message carries a link that stops that kind of mail for the account (KINDS), in its
text and in a `List-Unsubscribe` header (with `List-Unsubscribe-Post`, so a mail program's
own "unsubscribe" button works with one POST, RFC 8058). The link is signed
(services/mail_choices.py) and lasts UNSUBSCRIBE_LINK_DAYS. Messages are written to the
outbox in the caller's transaction, once per dedupe key, in the recipient's language.
"""

from flask import render_template
from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import FirmMember, OutboxMessage, User, utcnow
from . import mail_choices, signed_links  # noqa: F401  (signed_links: LinkRefused, for callers)
from .mail_outbox import recipient_locale

KINDS = ("comment_questions", "comment_answers")
UNSUBSCRIBE_LINK_DAYS = mail_choices.LINK_DAYS


# --- the links (services/mail_choices.py) ------------------------------------------------------


def unsubscribe_link(user, kind):
    return mail_choices.link(user, kind)


def reader_of(kind, token):
    """The account an unsubscribe link names; LinkRefused if it is not one of ours."""
    return mail_choices.reader_of(kind, token)


def opted_out(user_id, kind):
    return mail_choices.opted_out(user_id, kind)


def unsubscribe(user, kind):
    """No more mail of `kind` for `user`; doing it again changes nothing."""
    mail_choices.unsubscribe(user, kind)


# --- the messages --------------------------------------------------------------------------------


def _comment_link(project, comment):
    return mail_choices.external_url("projects.show", slug=project.slug) + f"#comment-{comment.id}"


def new_question(project, question):
    """Each of the firm's people (but those who unsubscribed): someone asked on its campaign."""
    members = db.session.scalars(
        select(User)
        .join(FirmMember, FirmMember.user_id == User.id)
        .where(FirmMember.firm_id == project.firm_id)
        .order_by(User.id)
    ).all()
    for member in members:
        _queue(
            f"comment_question:{question.id}:{member.id}",
            member,
            "comment_questions",
            "mail/comment_question.txt",
            lambda: _("A question on %(title)s", title=project.title),
            project=project,
            question=question,
            link=_comment_link(project, question),
        )


def answered(project, question, answer):
    """The one who asked `question`: the firm answered it."""
    _queue(
        f"comment_answer:{answer.id}",
        question.author,
        "comment_answers",
        "mail/comment_answer.txt",
        lambda: _("%(firm)s answered your question", firm=project.firm.legal_name),
        project=project,
        question=question,
        answer=answer,
        link=_comment_link(project, answer),
    )


def _queue(dedupe_key, user, kind, template, subject, **context):
    if user.deleted_at is not None or user.suspended_at is not None or opted_out(user.id, kind):
        return None
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None:
        return None
    stop = unsubscribe_link(user, kind)
    with force_locale(recipient_locale(user)):
        subject_text = " ".join(str(subject()).split())[:300]
        body = render_template(template, user=user, unsubscribe=stop, unsubscribe_kind=kind, **context)
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        to_address=user.email,
        subject=subject_text,
        body_text=body.strip() + "\n",
        list_unsubscribe=stop,
        created_at=utcnow(),
        attempts=0,
    )
    db.session.add(message)  # the outbox's own listener hands it to delivery after the commit
    db.session.flush()
    return message
