"""Records of the payment processor side.

`SandboxOperation` is the sandbox processor's own book (a stand-in for Stripe's): it is
written by `SandboxGateway` on a connection of its own, so a charge survives our own
transaction rolling back, exactly as a real processor's would. `SandboxWebhookEvent` is
the sandbox's queue of signed webhooks to send (written in the same sandbox transaction as
the change it reports). `WebhookEvent` makes every processor event handled once.
"""

from sqlalchemy import JSON, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Money, UTCDateTime, db, utcnow


class SandboxOperation(db.Model):
    __tablename__ = "sandbox_operations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # ch_sbx_..., re_sbx_..., po_sbx_...
    idempotency_key: Mapped[str] = mapped_column(String(150), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # charge | refund | payout | dispute | reinstate | reversal
    # succeeded | declined | requires_action | canceled; failed (a refund the bank refused later);
    # refused (an injected refusal, kept under its key)
    # a dispute's: needs_response | under_review | won | lost (sandbox_disputes.py)
    status: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[str | None] = mapped_column(String(100))
    # the refunded charge / the payout account; indexed: every refund sums the refunds of its charge
    reference: Mapped[str | None] = mapped_column(String(100), index=True)
    decline_code: Mapped[str | None] = mapped_column(String(50))
    fee: Mapped[int | None] = mapped_column(Money)  # what the processor kept of a succeeded charge
    extra: Mapped[dict | None] = mapped_column(JSON)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class SandboxWebhookEvent(db.Model):
    """An event the sandbox processor owes our webhook endpoint (crowdfund/jobs/sandbox_webhooks.py)."""

    __tablename__ = "sandbox_webhook_events"
    # The delivery run's queue, oldest first: only undelivered rows (as the mail outbox's).
    __table_args__ = (
        Index(
            "ix_sandbox_webhook_events_undelivered",
            "created_at",
            "id",
            postgresql_where=text("delivered_at IS NULL"),
            sqlite_where=text("delivered_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # evt_sbx_...
    type: Mapped[str] = mapped_column(String(100))  # payment_intent.succeeded ...
    payload: Mapped[dict] = mapped_column(JSON)  # the whole event, as it is sent
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Not before this time: a retry's back-off, a delivery run's claim, or chaos holding it back.
    deliver_after = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class WebhookEvent(db.Model):
    __tablename__ = "webhook_events"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the processor's event id
    type: Mapped[str] = mapped_column(String(100))
    received_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class SandboxAccount(db.Model):
    """A connected account in the sandbox processor's own book (a stand-in for Stripe
    Connect's), written by `SandboxAccountsMixin` on the sandbox's own connection."""

    __tablename__ = "sandbox_accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # acct_sbx_...
    idempotency_key: Mapped[str] = mapped_column(String(150), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # pending | verified | restricted
    country: Mapped[str] = mapped_column(String(2))
    email: Mapped[str | None] = mapped_column(String(254))
    # metadata (our firm id), and the last onboarding link's return and refresh addresses
    extra: Mapped[dict | None] = mapped_column(JSON)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
