"""StripeGateway: the real processor, through the official `stripe` package.

- charge: a PaymentIntent created and confirmed in one call, `transfer_group` = the
  campaign, so the money can later be sent on with Transfers. Cards, and Alipay / WeChat Pay
  when STRIPE_PAYMENT_METHODS allows them; those (and 3-D Secure) leave the payment
  `requires_action` until the backer has finished it in their bank's page or wallet.
- retrieve / cancel: the PaymentIntent as Stripe has it now / abandoned.
- find_charge: the PaymentIntent made under an idempotency key, once Stripe has forgotten it.
- refund: a Refund of that PaymentIntent; retrieve_refund: that Refund as Stripe has it now
  (one can fail days later: `refund.failed`).
- payout: a Transfer to the firm's connected account (Stripe Connect).
- retrieve_dispute / reverse_payout: a chargeback, and a Transfer taken back (stripe_disputes.py).
- parse_webhook: Stripe's signed events (`Stripe-Signature` header).

Every request names its API version (STRIPE_API_VERSION, or the pinned package's own), so
what Stripe expects is what the package's typed parameters describe, whatever the account's
default version is; tests/payments/test_stripe_conformance.py checks what we send against them.

Every mutating call carries the caller's idempotency key (derived from our own ids), so a
retry after a timeout or a crash replays Stripe's first answer instead of moving money
twice. Stripe forgets idempotency keys after 24 hours: past that, a payment is looked at
with `retrieve(ref)`, never charged again (the key is also in the object's metadata as
`crowdfund_key`, to find it from the dashboard). A retry must send the same parameters,
`return_url` included, or Stripe refuses it as an idempotency conflict.

Each gateway has a `StripeClient` of its own (API key, version, base address, HTTP client);
nothing is set on the `stripe` module, so two apps in one process never share Stripe settings.

Amounts are in minor units already, as Stripe expects (JPY has no decimals in both); they
are passed as they are. Currencies go to Stripe in lower case and come back in upper case.
"""

import json
import logging
from typing import Any, cast

import stripe
from stripe.params import (
    BalanceTransactionListParams,
    BalanceTransactionListParamsCreated,
    PaymentIntentCreateParams,
    RefundCreateParams,
    TransferCreateParams,
)

from ..request_gate import processor_wait
from .base import (
    ChargeResult,
    GatewayError,
    MoneyMovement,
    PaymentGateway,
    RefundResult,
    WebhookEventData,
)
from .stripe_accounts import StripeAccountsMixin
from .stripe_disputes import StripeDisputesMixin
from .stripe_results import _activity, _declined, _gateway_error, _intent_result, _metadata

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30  # seconds; Stripe's own default (80 s) is longer than any web request should wait
DEFAULT_MAX_NETWORK_RETRIES = 2  # stripe-python retries timeouts, 409 and 5xx with the same idempotency key

# The payment methods whose next actions we know how to hand to the backer.
SUPPORTED_PAYMENT_METHODS = ("card", "alipay", "wechat_pay")

# Newer API versions take the allowed types as `allowed_payment_method_types`; older ones
# as `payment_method_types`. Whichever the pinned package types is the one its version takes.
PAYMENT_METHOD_TYPES_PARAM = next(
    name
    for name in ("allowed_payment_method_types", "payment_method_types")
    if name in PaymentIntentCreateParams.__annotations__
)

# Where a PaymentIntent's fee is: its latest charge's balance transaction.
FEE_EXPAND = ("latest_charge.balance_transaction",)


class StripeGateway(StripeDisputesMixin, StripeAccountsMixin, PaymentGateway):
    name = "stripe"

    def __init__(self, app, *, http_client=None):
        config = app.config
        api_key = config.get("STRIPE_SECRET_KEY")
        if not api_key:
            raise RuntimeError("PAYMENT_GATEWAY is 'stripe' but STRIPE_SECRET_KEY is not set.")
        self.payment_methods = list(config.get("STRIPE_PAYMENT_METHODS") or ["card"])
        unknown = [kind for kind in self.payment_methods if kind not in SUPPORTED_PAYMENT_METHODS]
        if unknown:
            raise RuntimeError(f"STRIPE_PAYMENT_METHODS has {unknown}; supported: {list(SUPPORTED_PAYMENT_METHODS)}.")
        self.api_version = config.get("STRIPE_API_VERSION") or stripe.api_version
        if self.api_version != stripe.api_version:
            log.warning(
                "STRIPE_API_VERSION %s is not the stripe package's %s; the parameters we send are "
                "those of the package's version.",
                self.api_version,
                stripe.api_version,
            )
        api_base = config.get("STRIPE_API_BASE")
        if http_client is None:
            http_client = stripe.RequestsClient(timeout=config.get("STRIPE_TIMEOUT", DEFAULT_TIMEOUT))
        self.webhook_secret = config.get("STRIPE_WEBHOOK_SECRET")
        # Events about the firms' connected accounts (account.updated) come from an endpoint of
        # their own in Stripe, signed with that endpoint's secret.
        self.connect_webhook_secret = config.get("STRIPE_CONNECT_WEBHOOK_SECRET")
        self.client = stripe.StripeClient(
            api_key,
            stripe_version=self.api_version,
            base_addresses={"api": api_base} if api_base else None,
            http_client=_SteppingOut(http_client, app),
            max_network_retries=config.get("STRIPE_MAX_NETWORK_RETRIES", DEFAULT_MAX_NETWORK_RETRIES),
        )

    # -- charge ------------------------------------------------------------------------------
    def charge(
        self,
        *,
        amount,
        currency,
        payment_method,
        idempotency_key,
        transfer_group,
        description="",
        metadata=None,
        return_url=None,
    ):
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method": payment_method,
            # Only these: anything else enabled in the dashboard would need flows we do not have.
            PAYMENT_METHOD_TYPES_PARAM: list(self.payment_methods),
            "confirm": True,
            "transfer_group": transfer_group,
            # The fee Stripe keeps is on the charge's balance transaction: our ledger books it.
            "expand": list(FEE_EXPAND),
            "metadata": _metadata(metadata, idempotency_key),
        }
        if description:
            params["description"] = description
        if return_url:
            # Where Stripe sends the backer back after 3-D Secure or a wallet; Stripe refuses a
            # server-side confirmation of a redirect-based method without it.
            params["return_url"] = return_url
        if "wechat_pay" in self.payment_methods:
            # WeChat Pay needs to know where the backer pays; ours is a web page (a QR code).
            params["payment_method_options"] = {"wechat_pay": {"client": "web"}}
        try:
            # A dict, not the SDK's TypedDict: the allowed types' parameter is named at import time.
            intent = self.client.v1.payment_intents.create(
                cast(PaymentIntentCreateParams, params), {"idempotency_key": idempotency_key}
            )
        except stripe.CardError as error:
            return _declined(error)
        except stripe.InvalidRequestError as error:
            if error.param == "payment_method":  # e.g. resource_missing: no such PaymentMethod
                return ChargeResult(
                    ok=False,
                    decline_code="invalid_payment_method",
                    message="That card could not be used. Please enter it again.",
                )
            raise _gateway_error(error) from error
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return _intent_result(intent.to_dict())

    # -- retrieve / cancel ---------------------------------------------------------------------
    def retrieve(self, ref):
        try:
            intent = self.client.v1.payment_intents.retrieve(ref, {"expand": list(FEE_EXPAND)})
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return _intent_result(intent.to_dict())

    def cancel(self, ref, *, idempotency_key):
        try:
            intent = self.client.v1.payment_intents.cancel(
                ref, {"cancellation_reason": "abandoned"}, {"idempotency_key": idempotency_key}
            )
        except stripe.InvalidRequestError as error:
            if error.code != "payment_intent_unexpected_state":
                raise _gateway_error(error) from error
            # Too late to cancel: it succeeded (or ended) meanwhile. Say what it became.
            log.info("Stripe would not cancel %s (%s); retrieving it.", ref, error.user_message)
            return self.retrieve(ref)
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return _intent_result(intent.to_dict())

    def find_charge(self, idempotency_key):
        """The PaymentIntent whose metadata carries our key (Stripe's Search API), or None.

        Search results lag behind writes; reconcile asks only once Stripe has forgotten the
        key, long after the charge call, when a missing result means there is no payment."""
        quoted = idempotency_key.replace("\\", "\\\\").replace("'", "\\'")
        try:
            found = self.client.v1.payment_intents.search(
                {
                    "query": f"metadata['crowdfund_key']:'{quoted}'",
                    "limit": 10,
                    "expand": [f"data.{path}" for path in FEE_EXPAND],
                }
            )
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        intents = [intent.to_dict() for intent in found.data]
        if not intents:
            return None
        if len(intents) > 1:  # one key, one charge call: should not happen; the taken one counts
            log.warning(
                "%d PaymentIntents carry key %s: %s",
                len(intents),
                idempotency_key,
                [intent.get("id") for intent in intents],
            )
        return _intent_result(max(intents, key=lambda i: (i.get("status") == "succeeded", i.get("created") or 0)))

    # -- what Stripe's books say: balance transactions --------------------------------------------
    def activity(self, *, since=None, until=None):
        """Charges (with Stripe's fee), refunds and transfers in the platform's balance history.
        A charge's or refund's source is expanded to name its PaymentIntent, our reference."""
        params: BalanceTransactionListParams = {"limit": 100, "expand": ["data.source"]}
        created: BalanceTransactionListParamsCreated = {}
        if since:
            created["gte"] = int(since.timestamp())
        if until:
            created["lt"] = int(until.timestamp())
        if created:
            params["created"] = created
        try:
            page = self.client.v1.balance_transactions.list(params)
            records = [record for item in page.auto_paging_iter() if (record := _activity(item.to_dict()))]
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return records

    # -- refund ------------------------------------------------------------------------------
    def refund(self, *, charge_ref, amount, currency, idempotency_key):
        params: RefundCreateParams = {
            "payment_intent": charge_ref,
            "amount": amount,
            "metadata": _metadata(None, idempotency_key),
        }
        try:
            refund = self.client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        if refund.status in ("failed", "canceled"):
            raise GatewayError(
                f"Stripe refused refund {refund.id} of {charge_ref} ({refund.status}).", code=f"refund_{refund.status}"
            )
        # "pending" is fine: Stripe has taken the refund and will finish it.
        return MoneyMovement(ref=refund.id, amount=refund.amount, currency=refund.currency.upper())

    def retrieve_refund(self, ref):
        try:
            refund = self.client.v1.refunds.retrieve(ref).to_dict()
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return RefundResult(
            ref=refund["id"],
            status=refund.get("status") or "pending",
            amount=refund["amount"],
            currency=refund["currency"].upper(),
            charge_ref=refund.get("payment_intent") or refund.get("charge"),
            key=(refund.get("metadata") or {}).get("crowdfund_key"),
            failure_reason=refund.get("failure_reason"),
        )

    # -- payout: a Transfer to the firm's connected account ----------------------------------
    def payout(self, *, amount, currency, destination, idempotency_key, transfer_group):
        if not destination or not destination.startswith("acct_"):
            raise GatewayError(f"{destination!r} is not a Stripe connected account.", code="invalid_destination")
        params: TransferCreateParams = {
            "amount": amount,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": _metadata(None, idempotency_key),
        }
        try:
            transfer = self.client.v1.transfers.create(params, {"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            # Stripe's `balance_insufficient` (card funds still pending) keeps its code: settlement
            # waits and tries again later (crowdfund/workflows/payouts.py).
            raise _gateway_error(error) from error
        return MoneyMovement(ref=transfer.id, amount=transfer.amount, currency=transfer.currency.upper())

    # -- webhooks ----------------------------------------------------------------------------
    def parse_webhook(self, payload, headers):
        if not self.webhook_secret:
            raise GatewayError(
                "STRIPE_WEBHOOK_SECRET is not set; Stripe webhooks cannot be verified.", code="not_configured"
            )
        try:
            event = self._construct_event(payload, headers.get("Stripe-Signature"))
        except stripe.SignatureVerificationError:
            raise GatewayError("The webhook signature does not match.", code="bad_signature") from None
        except ValueError:
            raise GatewayError("The webhook body is not a Stripe event.", code="bad_payload") from None
        # The verified body as plain JSON: handlers get dicts, not StripeObjects.
        body = json.loads(payload)
        return WebhookEventData(id=event.id, type=event.type, data=body.get("data") or {})

    def _construct_event(self, payload, signature):
        """The event, verified with the platform endpoint's secret or the Connect endpoint's."""
        secrets = [secret for secret in (self.webhook_secret, self.connect_webhook_secret) if secret]
        for secret in secrets[:-1]:
            try:
                return self.client.construct_event(payload, signature, secret)
            except stripe.SignatureVerificationError:
                continue
        return self.client.construct_event(payload, signature, secrets[-1])


class _SteppingOut(stripe.HTTPClient):
    """The SDK's HTTP client, out of the request gate (crowdfund/request_gate.py) while it waits
    for Stripe, its retries' pauses included."""

    def __init__(self, inner, app):
        super().__init__()
        self.inner, self.app = inner, app
        self.name = inner.name  # type: ignore[misc]  # the SDK's telemetry names the real client

    def request_with_retries(self, *args, **kwargs):
        with processor_wait(self.app):
            return self.inner.request_with_retries(*args, **kwargs)

    def request_stream_with_retries(self, *args, **kwargs):
        with processor_wait(self.app):
            return self.inner.request_stream_with_retries(*args, **kwargs)

    def close(self):
        self.inner.close()
