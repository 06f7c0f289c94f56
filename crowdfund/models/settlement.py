"""Settlement of a closed campaign, and the mail outbox."""
from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Money, UTCDateTime, db, utcnow


class Settlement(db.Model):
    """One per closed campaign: release (success) or refund (failure, cancel, suspension)."""

    __tablename__ = "settlements"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(10))  # release | refund
    # pending|running|paying_out|waiting_for_payout|completed|needs_attention
    status: Mapped[str] = mapped_column(String(20), default="pending")
    currency: Mapped[str] = mapped_column(String(3))
    # A release's payout (crowdfund/workflows/payouts.py): the firm's net minus the reserve,
    # sent once `payout_due_at` has passed; the reserve, by a second payout, after `reserve_due_at`.
    payout_amount: Mapped[int] = mapped_column(Money, default=0)
    payout_ref: Mapped[str | None] = mapped_column(String(100))
    payout_due_at = mapped_column(UTCDateTime)
    reserve_amount: Mapped[int] = mapped_column(Money, default=0)
    reserve_ref: Mapped[str | None] = mapped_column(String(100))
    reserve_due_at = mapped_column(UTCDateTime)
    # While `waiting_for_payout`: when it is worth running again (a due date, or a back-off).
    due_at = mapped_column(UTCDateTime)
    payout_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Answers the processor refused the part being paid with (a short balance...): it keeps
    # each answer under its idempotency key, so each new try has a key of its own.
    payout_refusals: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    completed_at = mapped_column(UTCDateTime)

    project = relationship("Project")


class OutboxMessage(db.Model):
    """An email written in the same transaction as its event and delivered after commit."""

    __tablename__ = "outbox_messages"
    # The delivery run's queue, oldest first: only unsent rows, so a claim reads straight to
    # them instead of past every message already sent (crowdfund/jobs/mail.py).
    __table_args__ = (Index("ix_outbox_messages_unsent", "created_at", "id",
                            postgresql_where=text("sent_at IS NULL"), sqlite_where=text("sent_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(150), unique=True)  # e.g. "pledge_receipt:42"
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    sent_at = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
