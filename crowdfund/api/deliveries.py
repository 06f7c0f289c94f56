"""Release on delivery: shipments (the founder), receipt and problems (the backer), and the
admin's decisions on problems and late rewards. The money moves in services/deliveries.py and
workflows/delivery_release.py."""

from ..services import deliveries, delivery_records, receipts, shipments
from ..services.projects import access
from . import pledge_schemas, serializers
from .projects import visible_project
from .registry import operation
from .schemas import BIG_ID, COUNT, ID, STRING, TIME, line, lines, nullable, obj

SHIPMENT_CREATE = obj(
    {
        "pledge_ids": {"type": "array", "items": BIG_ID, "maxItems": shipments.MAX_PLEDGES},
        "carrier": line(shipments.CARRIER_MAX),
        "tracking": line(shipments.TRACKING_MAX),
    },
    required=["pledge_ids", "carrier", "tracking"],
)
SHIPMENT = obj(
    {
        "id": ID,
        "project_id": ID,
        "carrier": STRING,
        "tracking": STRING,
        "pledge_ids": {"type": "array", "items": BIG_ID},
        "created_at": TIME,
    }
)
DELIVERY_LINE = obj(
    {
        "pledge_id": BIG_ID,
        "tier": nullable(STRING),
        "quantity": COUNT,
        "status": STRING,
        "carrier": nullable(STRING),
        "tracking": nullable(STRING),
    }
)
DELIVERY_LIST = obj({"items": {"type": "array", "items": DELIVERY_LINE}})
PROBLEM = obj({"reason": lines(deliveries.REASON_MAX)}, required=["reason"])
REFUNDS_STARTED = obj({"project_id": ID, "refunding": COUNT})


@operation(
    "POST",
    "/projects/{project_id}/shipments",
    tag="deliveries",
    summary="Record a shipment (the firm's people)",
    description="Campaigns released on delivery, once successful: the pledges in `pledge_ids` (each "
    "waiting to ship) went out with `carrier` under `tracking`. Their backers are mailed and have "
    "DELIVERY_CONFIRM_DAYS to confirm receipt or report a problem. 422 names the field at fault; "
    "nothing is recorded then.",
    body=SHIPMENT_CREATE,
    status=201,
    response=SHIPMENT,
    errors=(403,),
)
def record_shipment(call, project_id):
    project = visible_project(call.user, project_id)
    body = call.body
    shipment = shipments.record_shipment(call.user, project, body["pledge_ids"], body["carrier"], body["tracking"])
    return {
        "id": shipment.id,
        "project_id": project.id,
        "carrier": shipment.carrier,
        "tracking": shipment.tracking,
        "pledge_ids": sorted(set(body["pledge_ids"])),
        "created_at": serializers.iso(shipment.created_at),
    }


@operation(
    "GET",
    "/projects/{project_id}/deliveries",
    tag="deliveries",
    summary="Rewards to ship and where each is (the firm's people and admins)",
    response=DELIVERY_LIST,
    errors=(403,),
)
def list_deliveries(call, project_id):
    project = visible_project(call.user, project_id)
    access.require_member_or_admin(call.user, project)
    return {
        "items": [
            {
                "pledge_id": line_.pledge_id,
                "tier": line_.tier_title,
                "quantity": line_.quantity,
                "status": line_.status,
                "carrier": line_.carrier,
                "tracking": line_.tracking,
            }
            for line_ in delivery_records.shipping_list(project)
        ]
    }


@operation(
    "POST",
    "/pledges/{pledge_id}/confirm-receipt",
    tag="deliveries",
    summary="Confirm your reward arrived",
    description="Releases the part of the pledge held for delivery to the firm. Confirming again is "
    "harmless. 409 `not_held_for_delivery` when nothing of the pledge is held for delivery, "
    "`delivery_refunded` once it was refunded.",
    response=pledge_schemas.PLEDGE,
    errors=(409,),
)
def confirm_receipt(call, pledge_id):
    receipts.get_pledge_for(call.user, pledge_id)  # NotFound for other people's pledges
    deliveries.confirm_receipt(call.user, pledge_id)
    return serializers.pledge(receipts.get_pledge_for(call.user, pledge_id))


@operation(
    "POST",
    "/pledges/{pledge_id}/report-problem",
    tag="deliveries",
    summary="Report a problem with your reward",
    description="The part of the pledge held for delivery stays held until an admin releases it to the "
    "firm or refunds it to you. 409 `delivery_settled` once it was released or refunded.",
    body=PROBLEM,
    response=pledge_schemas.PLEDGE,
    errors=(409,),
)
def report_problem(call, pledge_id):
    receipts.get_pledge_for(call.user, pledge_id)
    deliveries.report_problem(call.user, pledge_id, call.body["reason"])
    return serializers.pledge(receipts.get_pledge_for(call.user, pledge_id))


@operation(
    "POST",
    "/admin/pledges/{pledge_id}/delivery/release",
    tag="admin",
    access="admin",
    summary="Release a reported problem's held money to the firm (admins)",
    response=pledge_schemas.PLEDGE,
    errors=(409,),
)
def admin_release(call, pledge_id):
    receipts.get_pledge_for(call.user, pledge_id)  # 404 for a pledge that does not exist
    deliveries.admin_release(call.user, pledge_id)
    return serializers.pledge(receipts.get_pledge_for(call.user, pledge_id))


@operation(
    "POST",
    "/admin/pledges/{pledge_id}/delivery/refund",
    tag="admin",
    access="admin",
    summary="Refund a reported problem's held money to the backer (admins)",
    description="The refund goes through the payment processor after the request; the pledge's "
    "`delivery.status` is `refunding` until it is booked, then `refunded`.",
    response=pledge_schemas.PLEDGE,
    errors=(409,),
)
def admin_refund(call, pledge_id):
    receipts.get_pledge_for(call.user, pledge_id)  # 404 for a pledge that does not exist
    deliveries.admin_refund(call.user, pledge_id)
    return serializers.pledge(receipts.get_pledge_for(call.user, pledge_id))


@operation(
    "POST",
    "/admin/projects/{project_id}/refund-unshipped",
    tag="admin",
    access="admin",
    summary="Refund the held money of every late, unshipped reward of a campaign (admins)",
    description="Only rewards flagged late (not shipped DELIVERY_GRACE_DAYS after their estimated "
    "month); 409 `nothing_late` when there are none.",
    response=REFUNDS_STARTED,
    errors=(409,),
)
def refund_unshipped(call, project_id):
    project = access.get_project(project_id)
    return {"project_id": project.id, "refunding": deliveries.admin_refund_unshipped(call.user, project.id)}
