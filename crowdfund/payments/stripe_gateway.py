"""StripeGateway: the real processor, through the official `stripe` package.

- charge: a PaymentIntent created and confirmed in one call (cards only), `transfer_group`
  = the campaign, so the money can later be sent on with Transfers.
- refund: a Refund of that PaymentIntent.
- payout: a Transfer to the firm's connected account (Stripe Connect).
- parse_webhook: Stripe's signed events (`Stripe-Signature` header).

Every mutating call carries the caller's idempotency key (derived from our own ids), so a
retry after a timeout or a crash replays Stripe's first answer instead of moving money
twice. Stripe keeps idempotency keys for 24 hours: a retry later than that must first look
for the earlier object (the key is also stored in the object's metadata as `crowdfund_key`).

Each gateway has a `StripeClient` of its own (API key, base address, HTTP client); nothing is
set on the `stripe` module, so two apps in one process never share Stripe settings.

Amounts are in minor units already, as Stripe expects (JPY has no decimals in both); they
are passed as they are. Currencies go to Stripe in lower case and come back in upper case.
"""
import json
import logging

import stripe

from .base import ChargeResult, GatewayError, MoneyMovement, PaymentGateway, TransientGatewayError, WebhookEventData

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30  # seconds; Stripe's own default (80 s) is longer than any web request should wait
DEFAULT_MAX_NETWORK_RETRIES = 2  # stripe-python retries timeouts, 409 and 5xx with the same idempotency key

# Stripe's decline codes that say more than "declined" keep their name; the generic one is
# reported like the sandbox does it.
GENERIC_DECLINE_CODES = {None, "", "generic_decline"}


class StripeGateway(PaymentGateway):
    name = "stripe"

    def __init__(self, app, *, http_client=None):
        config = app.config
        api_key = config.get("STRIPE_SECRET_KEY")
        if not api_key:
            raise RuntimeError("PAYMENT_GATEWAY is 'stripe' but STRIPE_SECRET_KEY is not set.")
        base_addresses = {"api": config["STRIPE_API_BASE"]} if config.get("STRIPE_API_BASE") else None
        if http_client is None:
            http_client = stripe.RequestsClient(timeout=config.get("STRIPE_TIMEOUT", DEFAULT_TIMEOUT))
        self.webhook_secret = config.get("STRIPE_WEBHOOK_SECRET")
        self.client = stripe.StripeClient(
            api_key, base_addresses=base_addresses, http_client=http_client,
            max_network_retries=config.get("STRIPE_MAX_NETWORK_RETRIES", DEFAULT_MAX_NETWORK_RETRIES))

    # -- charge ------------------------------------------------------------------------------
    def charge(self, *, amount, currency, payment_method, idempotency_key, transfer_group,
               description="", metadata=None):
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method": payment_method,
            "payment_method_types": ["card"],  # no redirect-based methods: the backer is on our page
            "confirm": True,
            "transfer_group": transfer_group,
            "metadata": _metadata(metadata, idempotency_key),
        }
        if description:
            params["description"] = description
        try:
            intent = self.client.v1.payment_intents.create(params, {"idempotency_key": idempotency_key})
        except stripe.CardError as error:
            return _declined(error)
        except stripe.InvalidRequestError as error:
            if error.param == "payment_method":  # e.g. resource_missing: no such PaymentMethod
                return ChargeResult(ok=False, decline_code="invalid_payment_method",
                                    message="That card could not be used. Please enter it again.")
            raise _gateway_error(error)
        except stripe.StripeError as error:
            raise _gateway_error(error)
        return _intent_result(intent)

    # -- refund ------------------------------------------------------------------------------
    def refund(self, *, charge_ref, amount, currency, idempotency_key):
        params = {"payment_intent": charge_ref, "amount": amount,
                  "metadata": _metadata(None, idempotency_key)}
        try:
            refund = self.client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            raise _gateway_error(error)
        if refund.status in ("failed", "canceled"):
            raise GatewayError(f"Stripe refused refund {refund.id} of {charge_ref} ({refund.status}).",
                               code=f"refund_{refund.status}")
        # "pending" is fine: Stripe has taken the refund and will finish it.
        return MoneyMovement(ref=refund.id, amount=refund.amount, currency=refund.currency.upper())

    # -- payout: a Transfer to the firm's connected account ----------------------------------
    def payout(self, *, amount, currency, destination, idempotency_key, transfer_group):
        if not destination or not destination.startswith("acct_"):
            raise GatewayError(f"{destination!r} is not a Stripe connected account.", code="invalid_destination")
        params = {"amount": amount, "currency": currency.lower(), "destination": destination,
                  "transfer_group": transfer_group, "metadata": _metadata(None, idempotency_key)}
        try:
            transfer = self.client.v1.transfers.create(params, {"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            raise _gateway_error(error)
        return MoneyMovement(ref=transfer.id, amount=transfer.amount, currency=transfer.currency.upper())

    # -- webhooks ----------------------------------------------------------------------------
    def parse_webhook(self, payload, headers):
        if not self.webhook_secret:
            raise GatewayError("STRIPE_WEBHOOK_SECRET is not set; Stripe webhooks cannot be verified.",
                               code="not_configured")
        try:
            event = self.client.construct_event(payload, headers.get("Stripe-Signature"), self.webhook_secret)
        except stripe.SignatureVerificationError:
            raise GatewayError("The webhook signature does not match.", code="bad_signature")
        except ValueError:
            raise GatewayError("The webhook body is not a Stripe event.", code="bad_payload")
        # The verified body as plain JSON: handlers get dicts, not StripeObjects.
        body = json.loads(payload)
        return WebhookEventData(id=event.id, type=event.type, data=body.get("data") or {})


def _metadata(metadata, idempotency_key):
    """Stripe metadata values are strings; the key lets a late retry find the first object."""
    values = {str(key): str(value) for key, value in (metadata or {}).items()}
    values["crowdfund_key"] = idempotency_key
    return values


def _intent_result(intent):
    if intent.status == "succeeded":
        return ChargeResult(ok=True, ref=intent.id)
    if intent.status == "requires_action":
        # 3-D Secure: the browser finishes the payment with the client secret (Stripe.js).
        return ChargeResult(ok=False, ref=intent.id, decline_code="authentication_required",
                            message="Your bank asks you to confirm this payment.",
                            requires_action=True, client_secret=intent.client_secret)
    if intent.status == "requires_payment_method":
        last_error = intent.last_payment_error.to_dict() if intent.last_payment_error else {}
        return ChargeResult(ok=False, ref=intent.id,
                            decline_code=_decline_code(last_error.get("code"), last_error.get("decline_code")),
                            message=last_error.get("message") or "Your card was declined.")
    # processing / requires_capture / requires_confirmation cannot happen for a confirmed,
    # automatically captured card payment; say so rather than guess.
    return ChargeResult(ok=False, ref=intent.id, decline_code=intent.status,
                        message=f"The payment is {intent.status}; it has not been taken yet.")


def _declined(error):
    """A CardError (HTTP 402): the card was declined or needs the backer's bank to confirm."""
    body = (error.json_body or {}).get("error", {}) if isinstance(error.json_body, dict) else {}
    intent = body.get("payment_intent") or {}
    code = _decline_code(error.code, body.get("decline_code"))
    if code == "authentication_required" or intent.get("status") == "requires_action":
        return ChargeResult(ok=False, ref=intent.get("id"), decline_code="authentication_required",
                            message=body.get("message") or "Your bank asks you to confirm this payment.",
                            requires_action=True, client_secret=intent.get("client_secret"))
    return ChargeResult(ok=False, ref=intent.get("id"), decline_code=code,
                        message=body.get("message") or "Your card was declined.")


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
    if isinstance(error, stripe.APIError) and (error.http_status is None or error.http_status >= 500
                                               or error.http_status == 409):
        return TransientGatewayError(message, code="stripe_unavailable")
    return GatewayError(message, code=error.code or "stripe_error")
