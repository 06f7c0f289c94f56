"""Stripe's answers in our terms: a PaymentIntent as a ChargeResult (its fee, the next action
the backer must take, why it was declined), a balance transaction as a ProcessorRecord, and
a `stripe` error as a GatewayError (transient or not). Used by StripeGateway
(stripe_gateway.py) and its mixins."""

import logging
from typing import Any

import stripe

from .base import ChargeResult, GatewayError, NextAction, ProcessorRecord, TransientGatewayError
from .stripe_disputes import activity_record as dispute_activity_record

log = logging.getLogger(__name__)


# Stripe's decline codes that say more than "declined" keep their name; the generic one is
# reported like the sandbox does it.
GENERIC_DECLINE_CODES = {None, "", "generic_decline"}
# PaymentIntent error codes, in the words our pledge pages use (crowdfund/services/receipts.py).
INTENT_ERROR_CODES = {
    "payment_intent_authentication_failure": "authentication_failed",
    "payment_intent_payment_attempt_failed": "payment_failed",
    "payment_intent_payment_attempt_expired": "action_expired",
}

# Balance transaction types that are money in, money back, a refund that failed and came
# back to us, and money sent on.
ACTIVITY_KINDS = {
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
    "payment_refund": "refund",
    "refund_failure": "refund_failure",
    "transfer": "payout",
}
# next_action types that are a wallet to pay in, not the backer's bank confirming a card.
WALLET_ACTIONS = {"alipay_handle_redirect", "wechat_pay_display_qr_code"}


def _activity(item):
    """A balance transaction as a ProcessorRecord, or None for kinds we do not reconcile."""
    kind = ACTIVITY_KINDS.get(item.get("type"))
    source: dict[str, Any] = item["source"] if isinstance(item.get("source"), dict) else {"id": item.get("source")}
    if kind is None:  # a dispute's withdrawal or reinstatement, a transfer reversal, or none of ours
        return dispute_activity_record(item, source)
    currency, amount = (item.get("currency") or "").upper(), abs(int(item.get("amount") or 0))
    if kind == "charge":
        return ProcessorRecord(
            "charge", source.get("payment_intent") or source["id"], amount, currency, fee=int(item.get("fee") or 0)
        )
    if kind in ("refund", "refund_failure"):  # a refund_failure's source is the refund that failed
        return ProcessorRecord(
            kind, source["id"], amount, currency, source=source.get("payment_intent") or source.get("charge")
        )
    return ProcessorRecord("payout", source["id"], amount, currency, source=source.get("destination"))


def _metadata(metadata, idempotency_key):
    """Stripe metadata values are strings; the key lets a late retry find the first object."""
    values = {str(key): str(value) for key, value in (metadata or {}).items()}
    values["crowdfund_key"] = idempotency_key
    return values


def _intent_result(intent):
    """A PaymentIntent (as a plain dict: from a response, or inside a card error) as a ChargeResult."""
    status = intent.get("status")
    currency = intent.get("currency")
    known = {
        "ref": intent.get("id"),
        "amount": intent.get("amount"),
        "currency": currency.upper() if currency else None,
    }
    if status == "succeeded":
        return ChargeResult(ok=True, fee=_fee(intent), **known)
    if status == "requires_action":
        action = _next_action(intent.get("next_action") or {})
        if (intent.get("next_action") or {}).get("type") in WALLET_ACTIONS:
            return ChargeResult(
                ok=False,
                message="Finish the payment in your wallet.",
                requires_action=True,
                client_secret=intent.get("client_secret"),
                next_action=action,
                **known,
            )
        return ChargeResult(
            ok=False,
            decline_code="authentication_required",
            message="Your bank asks you to confirm this payment.",
            requires_action=True,
            client_secret=intent.get("client_secret"),
            next_action=action,
            **known,
        )
    if status == "processing":
        # Taken by the processor, not settled yet (a wallet, some cards): look again later.
        return ChargeResult(ok=False, processing=True, message="The payment is being processed.", **known)
    if status == "requires_payment_method":
        # After a confirmation, this is a failed attempt: our flow never tries the intent again.
        error: dict[str, Any] = intent.get("last_payment_error") or {}
        code = INTENT_ERROR_CODES.get(error.get("code", ""))
        if not code:
            code = _decline_code(error.get("code"), error.get("decline_code")) if error else "payment_failed"
        return ChargeResult(
            ok=False, decline_code=code, message=error.get("message") or "The payment did not go through.", **known
        )
    if status == "canceled":
        return ChargeResult(ok=False, decline_code="canceled", message="The payment was cancelled.", **known)
    # requires_confirmation / requires_capture cannot happen for a confirmed, automatically
    # captured payment. Not final: nothing is decided on it, and cancelling it is still possible.
    log.warning("PaymentIntent %s is %s, which our charges never leave it in.", known["ref"], status)
    return ChargeResult(ok=False, processing=True, message=f"The payment is {status}; it has not been taken.", **known)


def _fee(intent):
    """Stripe's fee on the intent's charge, in the charge's currency; None when Stripe has not
    said yet or settles in another currency (then our ledger cannot book it in the pledge's)."""
    charge = intent.get("latest_charge")
    balance = charge.get("balance_transaction") if isinstance(charge, dict) else None
    if not isinstance(balance, dict) or (balance.get("currency") or "").lower() != (intent.get("currency") or ""):
        return None
    return balance.get("fee")


def _next_action(action):
    """Stripe's next_action as ours: where to send the backer, or what Stripe.js must do."""
    kind = action.get("type")
    if kind == "redirect_to_url":  # 3-D Secure confirmed server-side with a return_url
        return NextAction("redirect_to_url", (action.get("redirect_to_url") or {}).get("url"))
    if kind == "alipay_handle_redirect":  # for a browser, Alipay is a plain redirect too
        return NextAction("redirect_to_url", (action.get("alipay_handle_redirect") or {}).get("url"))
    if kind == "wechat_pay_display_qr_code":
        qr_code = action.get("wechat_pay_display_qr_code") or {}
        return NextAction(kind, qr_code.get("hosted_instructions_url") or qr_code.get("image_url_png"))
    # use_stripe_sdk (3-D Secure without a return_url) and anything newer: Stripe.js
    # (handleNextAction with the client secret) knows what to do.
    return NextAction(kind or "use_stripe_sdk", None)


def _declined(error):
    """A CardError (HTTP 402): declined, or the backer's bank wants to confirm the payment."""
    body = (error.json_body or {}).get("error", {}) if isinstance(error.json_body, dict) else {}
    intent = body.get("payment_intent") or {}
    if intent.get("status") == "requires_action":
        return _intent_result(intent)
    currency = intent.get("currency")
    code = _decline_code(error.code, body.get("decline_code"))
    return ChargeResult(
        ok=False,
        ref=intent.get("id"),
        decline_code=code,
        message=body.get("message") or "Your card was declined.",
        amount=intent.get("amount"),
        currency=currency.upper() if currency else None,
    )


def _decline_code(code, decline_code):
    if decline_code not in GENERIC_DECLINE_CODES:
        return decline_code
    return code or "card_declined"


def _gateway_error(error):
    """Turn a stripe-python error into ours: transient ones are safe to retry with the same key."""
    message = f"Stripe: {error.user_message or error.__class__.__name__}"
    if isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError)):
        return TransientGatewayError(message, code="stripe_unavailable")
    if isinstance(error, stripe.IdempotencyError):
        return GatewayError(message, code="idempotency_conflict")
    if isinstance(error, (stripe.AuthenticationError, stripe.PermissionError)):
        log.error("Stripe refused our credentials: %s", error)
        return GatewayError(message, code="stripe_not_authorized")
    if isinstance(error, stripe.APIError) and (
        error.http_status is None or error.http_status >= 500 or error.http_status == 409
    ):
        return TransientGatewayError(message, code="stripe_unavailable")
    return GatewayError(message, code=error.code or "stripe_error")
