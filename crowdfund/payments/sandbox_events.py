"""The sandbox processor's webhook events, shaped like Stripe's.

`SandboxGateway` writes them with `queue` on its own connection, inside the transaction
that makes the change they report, so an event exists exactly when its change does (a
crash between the two cannot lose or invent one). crowdfund/jobs/sandbox_webhooks.py signs
and delivers them later. Handlers read them as they read Stripe's
(crowdfund/payments/webhook_handlers.py): `data.object` is the PaymentIntent, Charge or
Transfer, with Stripe's field names and status words.
"""

import secrets
from datetime import timedelta

from sqlalchemy import insert

from ..domain.clock import utcnow
from ..models import SandboxWebhookEvent

_EVENTS = SandboxWebhookEvent.__table__
ZERO = timedelta(0)

# The sandbox's statuses in Stripe's words for a PaymentIntent: a declined payment is one
# that "requires a payment method" again.
INTENT_STATUS = {
    "succeeded": "succeeded",
    "requires_action": "requires_action",
    "declined": "requires_payment_method",
    "canceled": "canceled",
}

# The event each status of a charge is announced with.
INTENT_EVENT = {
    "succeeded": "payment_intent.succeeded",
    "requires_action": "payment_intent.requires_action",
    "declined": "payment_intent.payment_failed",
    "canceled": "payment_intent.canceled",
}

# `last_payment_error.code` as Stripe sets it; `decline_code` keeps the sandbox's own code.
_ERROR_CODES = {
    "expired_card": "expired_card",
    "authentication_failed": "payment_intent_authentication_failure",
    "payment_failed": "payment_intent_payment_attempt_failed",
}


def _epoch(moment):
    return int(moment.timestamp()) if moment is not None else None


def metadata(op):
    """The charge's metadata as Stripe keeps it: strings, plus the idempotency key as
    `crowdfund_key` (as StripeGateway sends it), so a handler finds the pledge either way."""
    extra = op.get("extra") or {}
    # Charges recorded before `extra` held more than the metadata kept the metadata itself.
    given = extra.get("metadata") if "metadata" in extra else extra
    values = {str(key): str(value) for key, value in (given or {}).items()}
    values["crowdfund_key"] = op["idempotency_key"]
    return values


def payment_error(op, message):
    """Stripe's `last_payment_error` for a declined charge."""
    code = op["decline_code"]
    card = (op["payment_method"] or "").startswith("pm_card_")
    return {
        "type": "card_error" if card and code not in _ERROR_CODES else "invalid_request_error",
        "code": _ERROR_CODES.get(code, "card_declined"),
        "decline_code": code,
        "message": message,
    }


def next_action(action, return_url=None):
    """Stripe's `next_action` for a NextAction."""
    if action is None:
        return None
    if action.type == "wechat_pay_display_qr_code":
        details = {"data": action.url, "hosted_instructions_url": action.url}
    else:
        details = {"url": action.url, "return_url": return_url}
    return {"type": action.type, action.type: details}


def payment_intent(op, *, error=None, action=None):
    """The charge `op` (a sandbox_operations row) as a Stripe PaymentIntent."""
    extra = op.get("extra") or {}
    return {
        "id": op["id"],
        "object": "payment_intent",
        "amount": op["amount"],
        "currency": op["currency"].lower(),
        "status": INTENT_STATUS[op["status"]],
        "created": _epoch(op.get("created_at")),
        "payment_method": op["payment_method"],
        "transfer_group": op["reference"],
        "description": extra.get("description"),
        "metadata": metadata(op),
        "last_payment_error": error,
        "next_action": next_action(action, extra.get("return_url")),
        "cancellation_reason": "abandoned" if op["status"] == "canceled" else None,
    }


def refunded_charge(charge, amount_refunded):
    """The charge as Stripe's `charge.refunded` event shows it, after a refund."""
    return {
        "id": charge["id"],
        "object": "charge",
        "payment_intent": charge["id"],
        "amount": charge["amount"],
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= charge["amount"],
        "currency": charge["currency"].lower(),
        "status": "succeeded",
        "transfer_group": charge["reference"],
        "metadata": metadata(charge),
    }


def refund(op):
    """A refund as Stripe's Refund object (`refund.failed` and the like)."""
    return {
        "id": op["id"],
        "object": "refund",
        "amount": op["amount"],
        "currency": op["currency"].lower(),
        "charge": op["reference"],
        "payment_intent": op["reference"],
        "status": op["status"],
        "failure_reason": op["decline_code"] if op["status"] == "failed" else None,
        "created": _epoch(op.get("created_at")),
        "metadata": {"crowdfund_key": op["idempotency_key"]},
    }


def transfer(op):
    """A payout as Stripe's Transfer to a connected account."""
    return {
        "id": op["id"],
        "object": "transfer",
        "amount": op["amount"],
        "currency": op["currency"].lower(),
        "destination": op["reference"],
        "transfer_group": (op.get("extra") or {}).get("transfer_group"),
        "created": _epoch(op.get("created_at")),
        "metadata": {"crowdfund_key": op["idempotency_key"]},
    }


def dispute(op, *, reason, due_by):
    """A dispute (a sandbox_operations row) as Stripe's Dispute, balance transactions and all:
    the withdrawal of the amount and fee, and their return once won."""
    won = op["status"] == "won"
    currency = op["currency"].lower()
    moves = [
        {
            "object": "balance_transaction",
            "amount": -op["amount"],
            "fee": op["fee"] or 0,
            "currency": currency,
            "reporting_category": "dispute",
        }
    ]
    if won:
        moves.append(
            {
                "object": "balance_transaction",
                "amount": op["amount"],
                "fee": 0,
                "currency": currency,
                "reporting_category": "dispute_reversal",
            }
        )
    return {
        "id": op["id"],
        "object": "dispute",
        "amount": op["amount"],
        "currency": currency,
        "charge": op["reference"],
        "payment_intent": op["reference"],
        "reason": reason,
        "status": op["status"],
        "created": _epoch(op.get("created_at")),
        "evidence_details": {"due_by": _epoch(due_by)},
        "balance_transactions": moves,
        "metadata": {},
        "livemode": False,
    }


def queue(conn, events, *, delay=None):
    """Write `events` ([(type, object)]) on `conn`, inside the caller's transaction. `delay`
    (a timedelta) holds them back that long: a dispute comes some time after its charge."""
    now = utcnow()
    rows = []
    for event_type, obj in events:
        event_id = f"evt_sbx_{secrets.token_hex(12)}"
        rows.append(
            {
                "id": event_id,
                "type": event_type,
                "created_at": now,
                "deliver_after": now + (delay or ZERO),
                "attempts": 0,
                "payload": {
                    "id": event_id,
                    "object": "event",
                    "type": event_type,
                    "created": _epoch(now),
                    "livemode": False,
                    "data": {"object": obj},
                },
            }
        )
    if rows:
        # executemany: `bulk_insert`'s arrays do not carry JSON.
        conn.execute(insert(_EVENTS), rows)
    return len(rows)
