"""What changed on a campaign after its approval (services/change_history.py)."""

from ..services import change_history
from .projects import visible_project
from .registry import operation
from .schemas import ID, STRING, TIME, nullable, obj
from .serializers import iso

SECTION = {
    "type": "string",
    "enum": list(change_history.SECTIONS),
    "description": "What part of the campaign changed: story (summary or story text), risks, use_of_funds, "
    "tiers (rewards), equity (equity terms, e.g. the offering closing early), documents (cover image "
    "or disclosure documents), other.",
}
DIFF = {
    **nullable({"type": "array"}),
    "items": obj(
        {
            "op": {
                "type": "string",
                "enum": ["=", "-", "+", "…"],
                "description": "= unchanged, - taken out, + put in, … unchanged text left out (empty `text`).",
            },
            "text": STRING,
        }
    ),
    "description": "Texts (story, risks, use of funds, a reward's description): the words taken out and put "
    "in, with a little unchanged text around them; null for other changes.",
}
CHANGE = obj(
    {
        "id": ID,
        "section": SECTION,
        "field": {**STRING, "description": "The field as logged: risks, description, `tier <id> price`, cover, ..."},
        "summary": {**STRING, "description": "What changed, in a sentence (in the request's language)."},
        "old": {**STRING, "description": "The value before, as logged (amounts in minor units)."},
        "new": {**STRING, "description": "The value after, as logged (amounts in minor units)."},
        "diff": DIFF,
        "created_at": TIME,
    }
)
CHANGE_LIST = obj(
    {
        "items": {
            "type": "array",
            "items": CHANGE,
            "description": f"Newest first; at most {change_history.PUBLIC_LIMIT}.",
        }
    }
)


def change(item):
    edit = item.edit
    return {
        "id": edit.id,
        "section": item.section,
        "field": edit.field,
        "summary": item.summary,
        "old": edit.old_value or "",
        "new": edit.new_value or "",
        "diff": None if item.diff is None else [{"op": op, "text": text} for op, text in item.diff],
        "created_at": iso(edit.created_at),
    }


@operation(
    "GET",
    "/projects/{project_id}/changes",
    tag="projects",
    access="optional",
    summary="What changed on a campaign after its approval",
    description="Every change the firm made once the campaign was approved (story, risks, use of funds, rewards, "
    'equity terms, documents), newest first: the campaign page\'s "Changes" list. An empty list when '
    "nothing changed. Backers with a pledge held in escrow are mailed each change.",
    response=CHANGE_LIST,
)
def list_changes(call, project_id):
    project = visible_project(call.user, project_id)
    return {"items": [change(item) for item in change_history.public_changes(project)]}
