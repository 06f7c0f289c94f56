"""The conversation on a campaign: read it, ask or answer, report, and hide (administrators)."""

from ..services import comments
from ..services.projects import access
from .errors import ApiError
from .projects import visible_project
from .registry import operation
from .schemas import ID, STRING, TIME, lines, nullable, obj
from .serializers import iso

ROLE = {
    "type": ["string", "null"],
    "enum": [*comments.ROLES, None],
    "description": "founder: written by one of the firm's people, as the firm; backer (reward campaigns) or "
    "investor (equity campaigns): the author has a pledge held in escrow or settled; null: "
    "anyone else.",
}
_COMMENT_FIELDS = {
    "id": ID,
    "body": {**nullable(STRING), "description": "Markdown as written; null once the moderators hid it."},
    "body_html": {
        **nullable(STRING),
        "description": "`body` rendered and sanitised, as the campaign page shows it; null once hidden.",
    },
    "hidden": {"type": "boolean", "description": "The moderators hid it: its text is gone, its place stays."},
    "pinned": {"type": "boolean", "description": "An answer of the firm's that is in the campaign's FAQ."},
    "author": obj(
        {"name": STRING, "role": ROLE, "firm": {**nullable(STRING), "description": "role founder: the firm's name"}}
    ),
    "created_at": TIME,
}
REPLY = obj(
    {
        **_COMMENT_FIELDS,
        "parent_id": ID,
        "replies": {"type": "array", "maxItems": 0, "description": "Always empty: replies are one level deep."},
    }
)
COMMENT = obj(
    {
        **_COMMENT_FIELDS,
        "parent_id": nullable(ID),
        "replies": {"type": "array", "items": REPLY, "description": "Oldest first; one level deep."},
    }
)
COMMENT_LIST = obj({"items": {"type": "array", "items": COMMENT, "description": "Newest first."}})
COMMENT_CREATE = obj(
    {
        "body": lines(comments.BODY_MAX, description="Markdown (rendered and sanitised as the campaign's story is)."),
        "parent_id": {
            **nullable(ID),
            "description": "Reply to this comment. A reply to a reply joins the thread of the comment it answers.",
        },
    },
    required=["body"],
)
REPORT = obj({"reason": lines(comments.REASON_MAX, description="What is wrong with it (optional).")}, required=[])
REPORTED = obj({"comment_id": ID, "reported": {"type": "boolean"}})
HIDE = obj({"reason": lines(comments.REASON_MAX, description="Kept for the record; never shown.")})


def _comment(entry, project, *, replies=None):
    c = entry.comment
    shown = not c.is_hidden
    body = {
        "id": c.id,
        "parent_id": c.parent_id,
        "body": c.body if shown else None,
        "body_html": c.body_html if shown else None,
        "hidden": c.is_hidden,
        "pinned": shown and c.pinned_at is not None,
        "author": {"name": c.author.name, "role": entry.role, "firm": project.firm.legal_name if c.as_firm else None},
        "created_at": iso(c.created_at),
    }
    body["replies"] = [_comment(reply, project) for reply in replies or ()]
    return body


def _single(comment):
    """One comment, with its role and (top level) its replies, as the list shows it."""
    project = comment.project
    for entry in comments.thread(project):
        if entry.comment.id == comment.id:
            return _comment(entry, project, replies=entry.replies)
        for reply in entry.replies:
            if reply.comment.id == comment.id:
                return _comment(reply, project)
    raise ApiError(404, "There is no such comment.", code="not_found")  # pragma: no cover - it was just read


def visible_comment(user, comment_id):
    comment = comments.get_comment(comment_id)
    if not access.can_view(user, comment.project):
        raise ApiError(404, "There is no such comment.", code="not_found")
    return comment


@operation(
    "GET",
    "/projects/{project_id}/comments",
    tag="comments",
    access="optional",
    summary="A campaign's questions and comments",
    description="Top-level comments newest first, each with its replies. A comment the moderators hid "
    "keeps its place with `hidden` true and no text.",
    response=COMMENT_LIST,
)
def list_comments(call, project_id):
    project = visible_project(call.user, project_id)
    return {"items": [_comment(entry, project, replies=entry.replies) for entry in comments.thread(project)]}


@operation(
    "POST",
    "/projects/{project_id}/comments",
    tag="comments",
    summary="Ask a question, comment, or reply",
    description="Live and ended campaigns; accounts with a confirmed email address (403 `email_unverified`). "
    "Written by one of the firm's people it is the firm's answer (`role` founder). A question "
    "is mailed to the firm's people, and the firm's answer to the one who asked. Each account "
    "may post `RATELIMIT_COMMENTS` (429 `rate_limited`).",
    body=COMMENT_CREATE,
    status=201,
    response=COMMENT,
    errors=(403, 409, 429),
)
def post_comment(call, project_id):
    project = visible_project(call.user, project_id)
    comment = comments.post_comment(call.user, project, call.body["body"], parent_id=call.body.get("parent_id"))
    return _single(comment)


@operation(
    "POST",
    "/comments/{comment_id}/report",
    tag="comments",
    summary="Report a comment to the moderators",
    description="Reporting it again changes nothing.",
    body=REPORT,
    response=REPORTED,
)
def report_comment(call, comment_id):
    comment = visible_comment(call.user, comment_id)
    comments.report(call.user, comment, call.body.get("reason", ""))
    return {"comment_id": comment.id, "reported": True}


@operation(
    "POST",
    "/admin/comments/{comment_id}/hide",
    tag="admin",
    access="admin",
    summary="Hide a comment (admins)",
    description="Its text leaves every page and the API for good; that it was hidden stays. The reason is "
    "kept for the record (an audit row). Hiding it again changes nothing.",
    body=HIDE,
    response=COMMENT,
)
def hide_comment(call, comment_id):
    comment = comments.get_comment(comment_id)
    comments.hide(call.user, comment, call.body["reason"])
    return _single(comment)
