"""Material changes to a live equity offering, and the investors' reconfirmation
(services/material_changes.py)."""

from ..services import material_changes, receipts
from . import serializers
from .pledge_schemas import PLEDGE
from .projects import visible_project
from .registry import operation
from .schemas import COUNT, ID, STRING, TIME, lines, nullable, obj

MATERIAL_CHANGE_CREATE = obj(
    {
        "description": lines(
            material_changes.MAX_DESCRIPTION,
            description="What changed, for investors to read before they reconfirm (required, not blank).",
        )
    }
)
MATERIAL_CHANGE = obj(
    {
        "id": ID,
        "project_id": ID,
        "description": STRING,
        "created_at": TIME,
        "reconfirm_by": {**TIME, "description": "Investors who do not reconfirm by then are cancelled and refunded."},
        "commitments": {**COUNT, "description": "Commitments asked to reconfirm."},
        "deadline": {**TIME, "description": "The offering's deadline, never before `reconfirm_by` while any waits."},
        "deadline_before": {
            **nullable(TIME),
            "description": "The deadline before the change, when the change extended the offering; null otherwise.",
        },
    }
)


@operation(
    "POST",
    "/projects/{project_id}/material-change",
    tag="projects",
    summary="Mark a material change to a live offering",
    description="The firm's people or an admin: every standing commitment must be reconfirmed by its "
    "investor within `RECONFIRM_BUSINESS_DAYS` business days (5 by default; each investor is mailed "
    "the `description` and a link), or it is cancelled and refunded. When the deadline would come "
    "first, the offering is extended to `reconfirm_by`. Refusals: 422 naming `description` when it "
    "is blank; 409 `not_an_offering`, `project_not_live`.",
    body=MATERIAL_CHANGE_CREATE,
    status=201,
    response=MATERIAL_CHANGE,
    errors=(403, 409),
)
def mark_material_change(call, project_id):
    project = visible_project(call.user, project_id)
    change = material_changes.mark(call.user, project, call.body["description"])
    return material_change(change, project)


def material_change(change, project):
    return {
        "id": change.id,
        "project_id": change.project_id,
        "description": change.description,
        "created_at": serializers.iso(change.created_at),
        "reconfirm_by": serializers.iso(change.reconfirm_by),
        "commitments": change.commitments,
        "deadline": serializers.iso(project.deadline),
        "deadline_before": serializers.iso(change.deadline_before),
    }


@operation(
    "POST",
    "/pledges/{pledge_id}/reconfirm",
    tag="pledges",
    summary="Reconfirm your commitment after a material change",
    description="While the pledge shows `reconfirm_by`: the commitment stands and `reconfirm_by` becomes "
    "null. Only its investor (403 `not_your_pledge` for an admin). 409 `nothing_to_reconfirm` when "
    "nothing waits for reconfirmation, `reconfirmation_expired` once `reconfirm_by` has passed (the "
    "commitment is then cancelled and refunded).",
    response=PLEDGE,
    errors=(403, 409),
)
def reconfirm_pledge(call, pledge_id):
    receipts.get_pledge_for(call.user, pledge_id)  # NotFound for other people's pledges
    return serializers.pledge(material_changes.reconfirm(call.user, pledge_id))
