"""Founders' updates (public or for backers only), "Remind me", and the mail an account
gets (services/updates.py, services/reminders.py, services/mail_choices.py)."""

from ..services import mail_choices, reminders, updates
from .projects import visible_project
from .registry import operation
from .schemas import BOOLEAN, ID, STRING, TIME, line, lines, nullable, obj
from .serializers import iso

AUDIENCE = {
    "type": "string",
    "enum": list(updates.AUDIENCES),
    "description": "public: everyone reads it; backers: only the campaign's backers and its firm (others get "
    "it `locked`, without its text). Backers are mailed it either way.",
}
UPDATE = obj(
    {
        "id": ID,
        "title": STRING,
        "body": {**nullable(STRING), "description": "Markdown as written; null when `locked`."},
        "body_html": {**nullable(STRING), "description": "`body` rendered and sanitised; null when `locked`."},
        "audience": AUDIENCE,
        "locked": {"type": "boolean", "description": "A backers-only update the caller may not read."},
        "author": obj({"name": STRING}),
        "created_at": TIME,
    }
)
UPDATE_LIST = obj({"items": {"type": "array", "items": UPDATE, "description": "Newest first."}})
UPDATE_CREATE = obj(
    {
        "title": line(updates.TITLE_MAX),
        "body": lines(updates.BODY_MAX, description="Markdown."),
        "audience": {**AUDIENCE, "description": "Default public. " + AUDIENCE["description"]},
    },
    required=["title", "body"],
)
REMINDER = obj(
    {
        "project_id": ID,
        "reminder": {"type": "boolean", "description": "A mail comes REMINDER_LEAD_SECONDS before the deadline."},
    }
)
CHOICES = obj(
    {kind: BOOLEAN for kind in mail_choices.KINDS},
    description="Each optional kind of mail: true while the account gets it. Receipts, refunds and "
    "security mail always go.",
)
CHOICES_PATCH = obj({kind: BOOLEAN for kind in mail_choices.KINDS}, required=[])


def _update(update, unlocked):
    locked = update.audience == "backers" and not unlocked
    return {
        "id": update.id,
        "title": update.title,
        "body": None if locked else update.body,
        "body_html": None if locked else update.body_html,
        "audience": update.audience,
        "locked": locked,
        "author": {"name": update.author.name},
        "created_at": iso(update.created_at),
    }


@operation(
    "GET",
    "/projects/{project_id}/updates",
    tag="updates",
    access="optional",
    summary="A campaign's updates from its founders",
    description="Backers-only updates come `locked` (title and date, no text) unless the caller backed "
    "the campaign or belongs to its firm.",
    response=UPDATE_LIST,
)
def list_updates(call, project_id):
    project = visible_project(call.user, project_id)
    shown = sorted(project.updates, key=lambda u: (u.created_at, u.id), reverse=True)
    unlocked = updates.readable(call.user, project, shown)
    return {"items": [_update(u, unlocked) for u in shown]}


@operation(
    "POST",
    "/projects/{project_id}/updates",
    tag="updates",
    summary="Post an update (the firm's people)",
    description="From approval on. Mailed to the campaign's backers after the commit, whatever its audience.",
    body=UPDATE_CREATE,
    status=201,
    response=UPDATE,
    errors=(403,),
)
def post_update(call, project_id):
    project = visible_project(call.user, project_id)
    body = call.body
    update = updates.post_update(call.user, project, body["title"], body["body"], body.get("audience", "public"))
    return _update(update, True)


@operation(
    "PUT",
    "/projects/{project_id}/reminder",
    tag="updates",
    summary="Remind me before this campaign ends",
    description="Live campaigns (422 `wrong_state` otherwise). Setting it again changes nothing.",
    response=REMINDER,
    errors=(422,),
)
def set_reminder(call, project_id):
    project = visible_project(call.user, project_id)
    reminders.set_reminder(call.user, project, True)
    return {"project_id": project.id, "reminder": True}


@operation(
    "DELETE",
    "/projects/{project_id}/reminder",
    tag="updates",
    summary="Cancel the reminder",
    response=REMINDER,
)
def cancel_reminder(call, project_id):
    project = visible_project(call.user, project_id)
    reminders.set_reminder(call.user, project, False)
    return {"project_id": project.id, "reminder": False}


@operation("GET", "/account/notifications", tag="accounts", summary="Which optional mail you get", response=CHOICES)
def get_choices(call):
    return mail_choices.choices(call.user)


@operation(
    "PATCH",
    "/account/notifications",
    tag="accounts",
    summary="Turn kinds of optional mail on or off",
    description="Kinds not named stay as they are.",
    body=CHOICES_PATCH,
    response=CHOICES,
)
def change_choices(call):
    return mail_choices.choose(call.user, call.body)
