"""Payment gateways: `get_gateway()` returns the one this app is configured for."""

import threading

from flask import current_app

from .base import (
    DECLINED,
    PROCESSING,
    REQUIRES_ACTION,
    SUCCEEDED,
    ChargeResult,
    DisputeInfo,
    GatewayError,
    MoneyMovement,
    NextAction,
    PaymentGateway,
    ProcessorRecord,
    RefundRequest,
    TransientGatewayError,
    WebhookEventData,
)

_building = threading.Lock()


def get_gateway(app=None):
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]  # the app, not its proxy
    gateway = app.extensions.get("payment_gateway")
    if gateway is None:
        with _building:  # one per app, even when its first requests come in threads at once
            gateway = app.extensions.get("payment_gateway")
            if gateway is None:
                gateway = app.extensions["payment_gateway"] = _build(app)
    return gateway


def _build(app):
    kind = app.config["PAYMENT_GATEWAY"]
    if kind == "sandbox":
        from .sandbox import SandboxGateway

        return SandboxGateway(app)
    if kind == "stripe":
        from .stripe_gateway import StripeGateway

        return StripeGateway(app)
    raise RuntimeError(f"Unknown PAYMENT_GATEWAY {kind!r}: use 'sandbox' or 'stripe'.")
