import logging

from flask import request

from ...errors import json_error
from ...extensions import csrf
from ...payments import GatewayError, TransientGatewayError, get_gateway
from ...workflows import account_events, dispute_events, payment_events, refund_failures
from . import bp

log = logging.getLogger(__name__)


@bp.post("/<gateway_name>")
@csrf.exempt
def receive(gateway_name):
    gateway = get_gateway()
    if gateway_name != gateway.name:
        # Only the gateway this platform is configured for may send events.
        return json_error(404, f"No {gateway_name!r} payment gateway is configured here.")
    try:
        event = gateway.parse_webhook(request.get_data(), request.headers)
    except GatewayError as error:
        log.warning("Refused a %s webhook: %s", gateway_name, error)
        return json_error(400, str(error), code=error.code)
    try:
        account_events.look_again(event)  # before the event is recorded: a 503 here brings it again
        dispute_events.look_again(event)  # charge.dispute.*: the same
        refund_failures.look_again(event)  # refund.failed: booked back and parked, the same way
        created = payment_events.receive(event)
    except TransientGatewayError as error:
        # We could not look the payment or account up: the processor delivers the event again later.
        log.warning("Webhook %s: the processor did not answer (%s); asking for a retry", event.id, error)
        return json_error(
            503,
            "The payment processor could not be reached; deliver this event again later.",
            code="processor_unavailable",
            headers={"Retry-After": "30"},
        )
    return {"received": True, "duplicate": not created}, 200
