"""What the platform does with a payment processor's webhook events.

Handlers register for event types with `@handles("payment_intent.succeeded", ...)`; the
webhook endpoint records each event once (`services.webhooks.receive_event`) and then calls
`dispatch(event)`, inside the request's transaction. A handler that raises makes the
endpoint answer 500 and roll back, so the processor delivers the event again later.

Both gateways use Stripe's event names and shape (`data.object` is the PaymentIntent,
Refund, Transfer ...), so the handlers do not care which gateway sent the event.
For now the handlers log; the pledge flow hooks in where marked `# pledges:`.
"""

import logging
from collections import defaultdict
from collections.abc import Callable

log = logging.getLogger(__name__)

HANDLERS: defaultdict[str, list[Callable[..., object]]] = defaultdict(list)  # event type -> handlers


def handles(*event_types):
    """Register the decorated function for each of `event_types`."""

    def register(fn):
        for event_type in event_types:
            HANDLERS[event_type].append(fn)
        return fn

    return register


def dispatch(event):
    """Run every handler registered for `event.type`; returns how many ran."""
    handlers = HANDLERS.get(event.type, [])
    if not handlers:
        log.info("Webhook event %s (%s): no handler, recorded only.", event.id, event.type)
    for handler in handlers:
        handler(event)
    return len(handlers)


def _object(event):
    return (event.data or {}).get("object") or {}


def _describe(obj):
    amount, currency = obj.get("amount"), (obj.get("currency") or "").upper()
    return f"{obj.get('id')} ({amount} {currency})"


@handles("payment_intent.succeeded")
def payment_succeeded(event):
    intent = _object(event)
    log.info(
        "Webhook %s: payment %s succeeded, transfer group %s.",
        event.id,
        _describe(intent),
        intent.get("transfer_group"),
    )
    # pledges: finalize pending pledge -- a pledge still `pending` with charge ref intent["id"]
    # (the browser finished 3-D Secure, or our request died after charging) becomes `held`.


@handles("payment_intent.payment_failed", "payment_intent.canceled")
def payment_failed(event):
    intent = _object(event)
    error = intent.get("last_payment_error") or {}
    log.info(
        "Webhook %s: payment %s did not go through (%s).",
        event.id,
        _describe(intent),
        error.get("decline_code") or error.get("code") or intent.get("status"),
    )
    # pledges: finalize pending pledge -- a pledge still `pending` for intent["id"] becomes `failed`.


@handles("payment_intent.requires_action")
def payment_requires_action(event):
    log.info("Webhook %s: payment %s waits for the backer's bank (3-D Secure).", event.id, _describe(_object(event)))


@handles("charge.refunded", "refund.updated", "refund.failed")
def refund_changed(event):
    obj = _object(event)
    log.info("Webhook %s (%s): %s, status %s.", event.id, event.type, _describe(obj), obj.get("status"))
    # A failed one was looked at before the event was recorded: crowdfund/workflows/refund_failures.py.


@handles("charge.dispute.created")
def dispute_opened(event):
    dispute = _object(event)
    log.warning("Webhook %s: the backer disputes charge %s (%s).", event.id, dispute.get("charge"), _describe(dispute))


@handles("transfer.created", "transfer.reversed")
def transfer_changed(event):
    transfer = _object(event)
    log.info(
        "Webhook %s (%s): transfer %s to %s.", event.id, event.type, _describe(transfer), transfer.get("destination")
    )
