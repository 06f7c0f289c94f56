"""Records of the payment processor side.

`SandboxOperation` is the sandbox processor's own book (a stand-in for Stripe's): it is
written by `SandboxGateway` on a connection of its own, so a charge survives our own
transaction rolling back, exactly as a real processor's would. `WebhookEvent` makes every
processor event handled once.
"""
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Money, UTCDateTime, db, utcnow


class SandboxOperation(db.Model):
    __tablename__ = "sandbox_operations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # ch_sbx_..., re_sbx_..., po_sbx_...
    idempotency_key: Mapped[str] = mapped_column(String(150), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # charge | refund | payout
    status: Mapped[str] = mapped_column(String(12))  # succeeded | declined
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[str | None] = mapped_column(String(100))
    # the refunded charge / the payout account; indexed: every refund sums the refunds of its charge
    reference: Mapped[str | None] = mapped_column(String(100), index=True)
    decline_code: Mapped[str | None] = mapped_column(String(50))
    extra: Mapped[dict | None] = mapped_column(JSON)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class WebhookEvent(db.Model):
    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the processor's event id
    type: Mapped[str] = mapped_column(String(100))
    received_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
