"""Settlement of a closed campaign."""

import enum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Money, UTCDateTime, db, utcnow


class SettlementStatus(str, enum.Enum):
    """Where a settlement is (the words stored in `settlements.status`)."""

    PENDING = "pending"  # created with the campaign's close; not begun
    RUNNING = "running"  # refunding or releasing the campaign's pledges
    PAYING_OUT = "paying_out"  # a payout to the firm is being sent
    WAITING_FOR_PAYOUT = "waiting_for_payout"  # a payout part not due yet, or backed off: see `due_at`
    COMPLETED = "completed"
    NEEDS_ATTENTION = "needs_attention"  # stopped until an admin retries it


class Settlement(db.Model):
    """One per closed campaign: release (success) or refund (failure, cancel, suspension)."""

    __tablename__ = "settlements"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(10))  # release | refund
    status: Mapped[str] = mapped_column(String(20), default=SettlementStatus.PENDING.value)
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
