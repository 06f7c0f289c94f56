"""The conversation on a campaign: questions and comments, the firm's answers, reports,
moderation, and the FAQ the founders pin.

- Anyone signed in with a confirmed address may post on a live or ended campaign; a post by
  one of the firm's people is the firm's (`as_firm`) and is shown as its answer. Others carry
  a "backer" or "investor" badge while they have a held or settled pledge on the campaign.
- Replies are one level deep: a reply to a reply joins the thread of the comment it answers.
- Each account may post RATELIMIT_COMMENTS (counted in the rate limiter's store).
- The Markdown is rendered and sanitised as the story is (domain/markup.py).
- A question (a top-level post from outside the firm) is mailed to the firm's people, and the
  firm's answer to the one who asked (services/comment_mail.py).
- Anyone signed in may report a comment; an administrator hides it with a reason (its text is
  never shown again, that it was hidden is; an audit row says who and why) or keeps it.
- The firm's people pin their answers into the campaign's FAQ.

Everything here only flushes; the campaign page's change token is replaced at the commit.
"""

from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _, ngettext
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import change_tokens
from ..domain.markup import render_markdown
from ..errors import Conflict, NotFound, PermissionDenied, ValidationError
from ..extensions import db
from ..models import Comment, CommentReport, Pledge, PledgeStatus, ProjectKind, ProjectStatus as S, StateChange, utcnow
from . import comment_mail, sign_in_limits, use_case

# Live and ended campaigns: the ones whose page anyone may see.
COMMENTABLE = {S.LIVE.value, S.SUCCESSFUL.value, S.FAILED.value, S.CANCELLED.value, S.SUSPENDED.value}
BODY_MAX = 5000
REASON_MAX = 1000
# Pledges that make their backer a backer (or investor) of the campaign: money held or settled.
BACKING = (PledgeStatus.HELD.value, PledgeStatus.RELEASED.value)
ROLES = ("founder", "backer", "investor")
MAX_ID = 2**31 - 1


@dataclass
class Entry:
    """A comment as a page or the API shows it: its author's role, and (top level) its replies."""

    comment: Comment
    role: str | None  # founder | backer | investor | None
    replies: list = field(default_factory=list)


@dataclass
class FaqItem:
    question: Entry
    answer: Entry


# --- reading -------------------------------------------------------------------------------------


def get_comment(comment_id):
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(_("There is no such comment."))
    return comment


def find_on(project, comment_id):
    """The comment `comment_id` of `project`, or None (no id, not a comment, another campaign's)."""
    if type(comment_id) is not int or not 0 < comment_id <= MAX_ID:
        return None
    comment = db.session.get(Comment, comment_id)
    return comment if comment is not None and comment.project_id == project.id else None


def _roles(project, comments):
    """{author id: role} of `comments`' authors, from the firm label and one query of pledges."""
    authors = {c.author_id for c in comments if not c.as_firm}
    backers = set()
    if authors:
        backers = set(
            db.session.scalars(
                select(Pledge.backer_id)
                .distinct()
                .where(
                    Pledge.project_id == project.id, Pledge.status.in_(BACKING), Pledge.backer_id.in_(sorted(authors))
                )
            )
        )
    word = "investor" if project.kind == ProjectKind.EQUITY.value else "backer"
    return {author: word for author in backers}


def _role(comment, roles):
    return "founder" if comment.as_firm else roles.get(comment.author_id)


# Built once: every campaign page asks, most often for nothing.
_THREAD = (
    select(Comment)
    .where(Comment.project_id == bindparam("project_id"))
    .options(selectinload(Comment.author))
    .order_by(Comment.created_at, Comment.id)
)


def thread(project):
    """The campaign's conversation: top-level comments newest first, each with its replies
    oldest first (hidden ones included: their place shows they were hidden)."""
    comments = db.session.scalars(_THREAD, {"project_id": project.id}).all()
    roles = _roles(project, comments)
    tops = {c.id: Entry(c, _role(c, roles)) for c in comments if c.parent_id is None}
    for comment in comments:
        if comment.parent_id is not None and comment.parent_id in tops:
            tops[comment.parent_id].replies.append(Entry(comment, _role(comment, roles)))
    return list(reversed(tops.values()))


def faq(entries):
    """The FAQ of a conversation (`thread`): each pinned answer with its question, in the order
    they were pinned. Nothing hidden is in it."""
    items = [
        FaqItem(top, reply)
        for top in entries
        for reply in top.replies
        if reply.comment.pinned_at is not None and not reply.comment.is_hidden and not top.comment.is_hidden
    ]
    return sorted(items, key=lambda item: (item.answer.comment.pinned_at, item.answer.comment.id))


def count(entries):
    return sum(1 + len(entry.replies) for entry in entries)


@dataclass
class Conversation:
    """What a campaign page shows of it."""

    entries: list  # Entry, newest thread first
    faq: list  # FaqItem
    count: int  # comments and replies, hidden ones included


def conversation(project):
    entries = thread(project)
    return Conversation(entries, faq(entries), count(entries))


# --- posting -------------------------------------------------------------------------------------


def _limit_message(minutes):
    return ngettext(
        "You have posted a lot in a short time. Try again in %(num)d minute.",
        "You have posted a lot in a short time. Try again in %(num)d minutes.",
        minutes,
    )


def _require_may_post(user, project):
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("Log in to ask a question or comment."), code="login_required")
    if user.suspended_at is not None:
        raise PermissionDenied(_("This account is suspended, so it cannot post."), code="account_suspended")
    if user.email_verified_at is None and current_app.config.get("EMAIL_VERIFICATION_REQUIRED", True):
        raise PermissionDenied(
            _(
                "Please confirm your email address first: follow the link in the mail we sent "
                "to %(email)s, or ask for a new one.",
                email=user.email,
            ),
            code="email_unverified",
        )
    if project.status not in COMMENTABLE:
        raise Conflict(_("Only live and ended campaigns take comments."), code="not_commentable")


def _clean_body(body):
    body = (body or "").strip()
    if not body:
        message = _("Write your question or comment.")
        raise ValidationError(message, fields={"body": message})
    if len(body) > BODY_MAX:
        message = _("Write at most %(num)d characters.", num=BODY_MAX)
        raise ValidationError(message, fields={"body": message})
    html = render_markdown(body)
    if not html.strip():
        message = _("Write your question or comment.")
        raise ValidationError(message, fields={"body": message})
    return body, html


def _thread_of(project, parent_id):
    """The top-level comment a reply to `parent_id` belongs under."""
    known = type(parent_id) is int and 0 < parent_id <= MAX_ID  # never an overflow in the query
    parent = db.session.get(Comment, parent_id) if known else None
    if parent is None or parent.project_id != project.id:
        message = _("There is no such comment on this campaign.")
        raise ValidationError(message, fields={"parent_id": message})
    if parent.parent_id is not None:  # one level deep: a reply to a reply joins its thread
        parent = db.session.get(Comment, parent.parent_id)
    if parent.is_hidden:
        message = _("This comment was hidden by the moderators: it takes no replies.")
        raise ValidationError(message, fields={"parent_id": message})
    return parent


@use_case
def post_comment(user, project, body, *, parent_id=None):
    """`user`'s comment on `project` (a reply to `parent_id`), mailed to whom it concerns."""
    _require_may_post(user, project)
    body, html = _clean_body(body)
    parent = _thread_of(project, parent_id) if parent_id is not None else None
    key = str(user.id)
    sign_in_limits.refuse_when_spent("RATELIMIT_COMMENTS", "comments", key, _limit_message)
    comment = Comment(
        project_id=project.id,
        author_id=user.id,
        parent_id=parent.id if parent else None,
        body=body,
        body_html=html,
        as_firm=project.firm.has_member(user),
        created_at=utcnow(),
    )
    db.session.add(comment)
    db.session.flush()
    sign_in_limits.spend("RATELIMIT_COMMENTS", "comments", key)
    change_tokens.campaign_changed(db.session, project.id)
    if parent is None and not comment.as_firm:
        comment_mail.new_question(project, comment)
    elif parent is not None and comment.as_firm and not parent.as_firm and parent.author_id != user.id:
        comment_mail.answered(project, parent, comment)
    return comment


# --- reports and moderation ---------------------------------------------------------------------


def _clean_reason(reason, *, required):
    reason = (reason or "").strip()
    if required and not reason:
        message = _("Say why the comment is hidden: the reason is kept for the record.")
        raise ValidationError(message, fields={"reason": message})
    if len(reason) > REASON_MAX:
        message = _("Write at most %(num)d characters.", num=REASON_MAX)
        raise ValidationError(message, fields={"reason": message})
    return reason


@use_case
def report(user, comment, reason=""):
    """Ask the moderators to look at `comment`. Reporting it again changes nothing."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("Log in to report a comment."), code="login_required")
    reason = _clean_reason(reason, required=False)
    if comment.is_hidden:
        return None  # already dealt with
    existing = db.session.scalar(
        select(CommentReport).where(CommentReport.comment_id == comment.id, CommentReport.reporter_id == user.id)
    )
    if existing is not None:
        return existing
    entry = CommentReport(comment_id=comment.id, reporter_id=user.id, reason=reason, created_at=utcnow())
    try:
        with db.session.begin_nested():  # the same person reporting twice at once: one report
            db.session.add(entry)
    except IntegrityError:
        return db.session.scalar(
            select(CommentReport).where(CommentReport.comment_id == comment.id, CommentReport.reporter_id == user.id)
        )
    return entry


def _require_admin(user):
    if not getattr(user, "is_admin", False):
        raise PermissionDenied(_("Only administrators can do that."))


def _close_reports(comment, now):
    for entry in db.session.scalars(
        select(CommentReport).where(CommentReport.comment_id == comment.id, CommentReport.closed_at.is_(None))
    ):
        entry.closed_at = now


@use_case
def hide(admin, comment, reason):
    """Hide `comment` for good: its text leaves every page and the API; the reason is kept.
    Hiding it again changes nothing."""
    _require_admin(admin)
    reason = _clean_reason(reason, required=True)
    if comment.is_hidden:
        return comment
    now = utcnow()
    comment.hidden_at, comment.hidden_by_id, comment.hidden_reason = now, admin.id, reason
    comment.pinned_at = None
    _close_reports(comment, now)
    db.session.add(
        StateChange(
            entity="comment",
            entity_id=comment.id,
            from_state="visible",
            to_state="hidden",
            actor_id=admin.id,
            note=reason,
        )
    )
    db.session.flush()
    change_tokens.campaign_changed(db.session, comment.project_id)
    return comment


@use_case
def keep(admin, comment):
    """The moderators looked at `comment` and leave it: its open reports are closed."""
    _require_admin(admin)
    _close_reports(comment, utcnow())
    db.session.add(
        StateChange(entity="comment", entity_id=comment.id, from_state="reported", to_state="kept", actor_id=admin.id)
    )
    db.session.flush()
    return comment


def reported():
    """Comments with open reports, the longest-waiting first: [(comment, reports)]."""
    rows = db.session.scalars(
        select(CommentReport)
        .where(CommentReport.closed_at.is_(None))
        .options(
            selectinload(CommentReport.comment).selectinload(Comment.project),
            selectinload(CommentReport.comment).selectinload(Comment.author),
        )
        .order_by(CommentReport.created_at, CommentReport.id)
    ).all()
    by_comment = {}
    for entry in rows:
        by_comment.setdefault(entry.comment_id, (entry.comment, []))[1].append(entry)
    return list(by_comment.values())


def open_report_count():
    return db.session.scalar(select(func.count()).select_from(CommentReport).where(CommentReport.closed_at.is_(None)))


# --- the FAQ -------------------------------------------------------------------------------------


@use_case
def set_pinned(user, comment, pinned):
    """Put the firm's answer `comment` in the campaign's FAQ (or take it out): its people only."""
    project = comment.project
    if not project.firm.has_member(user):
        raise PermissionDenied(_("Only the people of the campaign's firm can change its FAQ."))
    if pinned and (not comment.as_firm or comment.parent_id is None or comment.is_hidden):
        raise Conflict(_("Only the firm's answers to questions can go in the FAQ."), code="not_an_answer")
    comment.pinned_at = (comment.pinned_at or utcnow()) if pinned else None
    db.session.flush()
    change_tokens.campaign_changed(db.session, project.id)
    return comment
