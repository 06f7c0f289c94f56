"""Projects: authoring, review, launch, discovery, pledging and the money statement."""

from flask import url_for

from ..errors import NotFound
from ..services import campaign_pages, campaigns, discovery, firms, offerings, pledges, receipts, reviews, statements
from ..services.projects import access, basics, documents, submission, tiers
from ..workflows import cancel, checkout
from . import pledge_schemas, project_schemas as S, schemas, serializers
from .errors import field_names
from .parsing import Param, aware_datetime, fingerprint
from .registry import operation

EQUITY_FIELDS = {key: f"equity.{key}" for key in S.EQUITY_TERMS["properties"]}
ADDRESS_FIELDS = {f"shipping_{key}": f"shipping_address.{key}" for key in pledge_schemas.ADDRESS["properties"]}
CHECKLIST_FIELDS = {key: f"checklist.{key}" for key in reviews.CHECKLIST}


def visible_project(user, project_id, *, options=()):
    """The project, if `user` (None: anonymous) may see it; NotFound otherwise, with no hint it exists.
    `options`: loader options (e.g. discovery.LONG_TEXTS to leave the long texts unloaded)."""
    project = access.get_project(project_id, options=options)
    if not access.can_view(user, project):
        raise NotFound("There is no such project.")
    return project


# --- discovery ---------------------------------------------------------------------------


@operation(
    "GET",
    "/projects",
    tag="projects",
    access="optional",
    summary="Find projects",
    description="Public campaigns (live, successful, failed) by default. A `status` filter narrows to "
    "that status within what you may see: your own firms' projects in any status, every "
    "project for admins.",
    query=[
        Param("q", {"type": "string", "maxLength": discovery.MAX_QUERY_LENGTH}, "Words in the title or summary"),
        Param("kind", schemas.KIND),
        Param("status", schemas.PROJECT_STATUS),
        Param("category", schemas.CATEGORY),
        Param("sort", {"type": "string", "enum": S.SEARCH_SORTS, "default": "newest"}),
        Param("page", {"type": "integer", "minimum": 1, "maximum": discovery.MAX_PAGE, "default": 1}),
        Param("per_page", {"type": "integer", "minimum": 1, "maximum": discovery.MAX_PER_PAGE, "default": 20}),
    ],
    response=S.PROJECT_PAGE,
)
def list_projects(call):
    query = {key: value for key, value in call.query.items() if value is not None}
    page = discovery.search_projects(**query, viewer=call.user)
    return serializers.project_page(page)


@operation(
    "GET",
    "/projects/{project_id}",
    tag="projects",
    access="optional",
    summary="A project",
    description="Drafts and projects in review are visible only to their firm and to admins. Ended "
    "campaigns stay visible with their outcome (`status`) and, when cancelled or suspended, "
    "`end_reason`.",
    response=S.PROJECT,
)
def get_project(call, project_id):
    project = visible_project(call.user, project_id)
    return serializers.project(project, end_reason=campaign_pages.end_reason(project))


# --- authoring ---------------------------------------------------------------------------


@operation(
    "POST",
    "/projects",
    tag="projects",
    summary="Start a project (a draft)",
    description="`equity` (equity projects) sets the share offering in the same step.",
    body=S.PROJECT_CREATE,
    status=201,
    response=S.PROJECT,
    errors=(403, 404),
)
def create_project(call):
    firm = firms.get_firm(call.body["firm_id"])
    with field_names(EQUITY_FIELDS):
        project = basics.create_project(call.user, firm, call.body["kind"], call.body, equity=call.body.get("equity"))
    return serializers.project(project)


@operation(
    "PATCH",
    "/projects/{project_id}",
    tag="projects",
    summary="Change a project",
    body=S.PROJECT_UPDATE,
    response=S.PROJECT,
    errors=(403,),
)
def update_project(call, project_id):
    project = visible_project(call.user, project_id)
    with field_names(EQUITY_FIELDS):
        basics.update_project(call.user, project, call.body, equity=call.body.get("equity"))
    return serializers.project(project)


@operation(
    "POST",
    "/projects/{project_id}/tiers",
    tag="projects",
    summary="Add a reward tier",
    body=S.TIER_CREATE,
    status=201,
    response=S.TIER,
    errors=(403,),
)
def add_tier(call, project_id):
    project = visible_project(call.user, project_id)
    tier = tiers.add_tier(call.user, project, call.body)
    return serializers.tier(tier)


@operation(
    "POST",
    "/projects/{project_id}/documents",
    tag="projects",
    summary="Upload a document",
    multipart=S.DOCUMENT_UPLOAD,
    status=201,
    response=S.DOCUMENT,
    errors=(403,),
)
def upload_document(call, project_id):
    project = visible_project(call.user, project_id)
    upload = call.files["file"]
    document = documents.upload_document(
        call.user, project, call.body["kind"], upload.filename, upload.mimetype, upload.stream
    )
    return serializers.document(document)


@operation(
    "POST",
    "/projects/{project_id}/submit",
    tag="projects",
    summary="Submit for review",
    description="422 `incomplete` lists in `fields` what is missing.",
    response=S.STATUS,
    errors=(403, 409, 422),
)
def submit_project(call, project_id):
    project = visible_project(call.user, project_id)
    return serializers.status(submission.submit(call.user, project))


@operation(
    "POST",
    "/admin/projects/{project_id}/review",
    tag="admin",
    access="admin",
    summary="Approve, request changes or reject (admins)",
    body=S.REVIEW,
    response=S.STATUS,
    errors=(409,),
)
def review_project(call, project_id):
    project = access.get_project(project_id)
    body = call.body
    with field_names(CHECKLIST_FIELDS):
        reviews.review_project(
            call.user,
            project,
            body["decision"],
            checklist=body.get("checklist"),
            risk_grade=body.get("risk_grade"),
            note=body.get("note", ""),
        )
    return serializers.status(project)


@operation(
    "POST",
    "/projects/{project_id}/launch",
    tag="projects",
    summary="Open an approved project to backers",
    description="409 `payout_account_not_ready` until the firm's payout account is verified by the "
    "payment processor (POST /firms/{firm_id}/payout-account).",
    body=S.LAUNCH,
    response=S.LAUNCHED,
    errors=(403, 409),
)
def launch_project(call, project_id):
    project = visible_project(call.user, project_id)
    deadline = aware_datetime(call.body["deadline"], "deadline")
    project = campaigns.launch(call.user, project, deadline)
    return {"id": project.id, "status": project.status, "deadline": serializers.iso(project.deadline)}


@operation(
    "POST",
    "/projects/{project_id}/close-early",
    tag="projects",
    summary="Close a live offering early",
    description="Equity offerings that reached their target, once their minimum period has run: a new, "
    "earlier `deadline` at least `EARLY_CLOSE_NOTICE_DAYS` business days ahead (5 by default). "
    "Every investor is mailed; the cancel window moves with the deadline. Refusals: 409 "
    "`not_an_offering`, `project_not_live`, `target_not_reached`, `minimum_period_not_run`; "
    "422 `deadline_too_soon`, `deadline_not_earlier`.",
    body=S.LAUNCH,
    response=S.LAUNCHED,
    errors=(403, 409),
)
def close_early(call, project_id):
    project = visible_project(call.user, project_id)
    deadline = aware_datetime(call.body["deadline"], "deadline")
    project = offerings.close_early(call.user, project, deadline)
    return {"id": project.id, "status": project.status, "deadline": serializers.iso(project.deadline)}


@operation(
    "GET",
    "/projects/{project_id}/statement",
    tag="projects",
    summary="Where the campaign's money is (the firm's people and admins)",
    response=S.STATEMENT,
    errors=(403,),
)
def project_statement(call, project_id):
    project = visible_project(call.user, project_id)
    access.require_member_or_admin(call.user, project)
    return serializers.statement(project.id, statements.statement(project))


# --- backing ---------------------------------------------------------------------------------


@operation(
    "POST",
    "/projects/{project_id}/pledges",
    tag="pledges",
    summary="Back a project",
    description="Reward projects: `tier_id` (+ `quantity`, and `shipping_address` when the tier ships) or "
    "a plain `amount`. Equity projects: `shares` and `acknowledge_risks` true (an investor profile is "
    "needed first; without the acknowledgement: 422 `risks_not_acknowledged` naming "
    "`acknowledge_risks`; over the 12-month limit, counted across currencies: 422 "
    "`investment_limit_exceeded`; an offering full of investors: 409 `investor_cap_reached`; eu_ecsp: "
    "409 `knowledge_test_required` / `loss_simulation_required` until the investor's entry checks "
    "are done, 422 `large_investment_not_acknowledged` naming `acknowledge_large_investment` above "
    "the warning mark; cn: 409 `qualification_required` / `qualification_pending` until an admin "
    "approved the investor's proof). The "
    "payment is taken and the money held in escrow (201, `status` held; `pending` when the "
    "payment processor has not answered yet). When the backer must first authenticate with "
    "their bank (3-D Secure) or pay in a wallet (Alipay, WeChat Pay), the answer is 202 with "
    "`status` requires_action and `next_action`: send the backer to `next_action.url`; "
    "`GET /pledges/{id}` then shows the outcome once the processor has it. The same "
    "`Idempotency-Key` again with the same body returns the first pledge and charges nothing "
    "more (with another body: 409 `idempotency_key_reused`); without "
    "the header every request is a new attempt. The firm's own people and the administrator "
    "who approved the campaign cannot back it (403 `own_project`).",
    headers=[
        Param(
            "Idempotency-Key",
            {"type": "string", "minLength": 8, "maxLength": 100},
            "Your id for this attempt (8-100 characters)",
        )
    ],
    body=pledge_schemas.PLEDGE_CREATE,
    status=201,
    response=pledge_schemas.PLEDGE,
    errors=(402, 403, 409),
    also={202: "Accepted: the backer must complete the payment (`next_action`)."},
)
def place_pledge(call, project_id):
    project = visible_project(call.user, project_id, options=discovery.LONG_TEXTS)  # a pledge shows none
    key = call.headers["idempotency_key"] or pledges.new_attempt_key()
    arguments = {
        name: call.body[name]
        for name in (
            "tier_id",
            "quantity",
            "amount",
            "extra",
            "shares",
            "shipping_address",
            "acknowledge_risks",
            "acknowledge_large_investment",
            "add_ons",
        )
        if name in call.body
    }
    with field_names(ADDRESS_FIELDS):
        pledge = checkout.place_pledge(
            call.user,
            project,
            idempotency_key=key,
            payment_method=call.body["payment_method"],
            return_url=_return_url,
            request_fingerprint=fingerprint(call.body),
            **arguments,
        )
    if pledge.status == "failed":  # the same key as an attempt that failed: the same answer again
        raise pledges.failure_error(pledge)
    body = serializers.pledge(pledge)
    return (body, 202) if pledge.status == "requires_action" else body


def _return_url(pledge_id):
    """Where the processor sends the backer back after their bank or wallet: our web page."""
    return url_for("pledges.payment_return", pledge_id=pledge_id, _external=True)


@operation(
    "GET",
    "/pledges/{pledge_id}",
    tag="pledges",
    summary="A pledge (its backer and admins)",
    response=pledge_schemas.PLEDGE,
)
def get_pledge(call, pledge_id):
    return serializers.pledge(receipts.get_pledge_for(call.user, pledge_id))


@operation(
    "GET", "/me/pledges", tag="pledges", summary="Your pledges, newest first", response=pledge_schemas.PLEDGE_LIST
)
def my_pledges(call):
    return {"items": [serializers.pledge(r.pledge) for r in receipts.pledges_of(call.user)]}


@operation(
    "POST",
    "/pledges/{pledge_id}/cancel",
    tag="pledges",
    summary="Cancel your pledge (refunded)",
    description="Reward pledges while the campaign is live; equity commitments until "
    "`EQUITY_CANCEL_CUTOFF` before the deadline. Cancelling again is harmless.",
    response=pledge_schemas.PLEDGE,
    errors=(403, 409),
)
def cancel_pledge(call, pledge_id):
    receipts.get_pledge_for(call.user, pledge_id)  # NotFound for other people's pledges
    return serializers.pledge(cancel.cancel_pledge(call.user, pledge_id))
