"""A backer's dispute of a charge (a chargeback), as the payment processor reports it.

One row per processor dispute (and at most one per pledge: a card network lets a charge be
disputed once). The processor is the truth about the dispute; this row keeps what we did
about it: where the pledge's money was taken from (`pledge_status_before`), whether the
campaign's running totals gave it up, and what we asked of the firm's connected account.
"""

import enum

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import BigId, Money, UTCDateTime, db, utcnow


class DisputeStatus(str, enum.Enum):
    NEEDS_RESPONSE = "needs_response"  # evidence is due by `evidence_due_by`
    UNDER_REVIEW = "under_review"  # evidence submitted; the card network decides
    WON = "won"  # the money came back
    LOST = "lost"  # the money stays with the backer


OPEN_DISPUTE_STATUSES = (DisputeStatus.NEEDS_RESPONSE.value, DisputeStatus.UNDER_REVIEW.value)


class Dispute(db.Model):
    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    processor_ref: Mapped[str] = mapped_column(String(100), unique=True)  # dp_...
    pledge_id: Mapped[int] = mapped_column(BigId, ForeignKey("pledges.id"), unique=True)
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    # What the processor charges for handling the dispute, as last booked (the platform's cost).
    fee: Mapped[int] = mapped_column(Money, default=0)
    reason: Mapped[str] = mapped_column(String(50), default="general")
    status: Mapped[str] = mapped_column(String(20), default=DisputeStatus.NEEDS_RESPONSE.value)
    evidence_due_by = mapped_column(UTCDateTime)
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    # The pledge's status when the money was withdrawn (held or released): where it came from,
    # and what the pledge becomes again if the dispute is won. Anything else: nothing could
    # be taken from our books for it (`booked` false), and an admin must look.
    pledge_status_before: Mapped[str] = mapped_column(String(20))
    booked: Mapped[bool] = mapped_column(Boolean, default=False)
    # The campaign was live: its pledged_amount / backer_count gave the pledge up, and get it
    # back if the dispute is won.
    totals_moved: Mapped[bool] = mapped_column(Boolean, default=False)
    # After the firm was paid: the transfer reversal that took the money back from its
    # connected account, or why it could not (meanwhile the firm owes it); and, for a dispute
    # won after that, the transfer that paid the firm again.
    # The payout worked out last kept this pledge's net back (the dispute was open then), so a
    # dispute won after that payout pays it to the firm.
    withheld_from_payout: Mapped[bool] = mapped_column(Boolean, default=False)
    reversal_ref: Mapped[str | None] = mapped_column(String(100))
    reversal_error: Mapped[str | None] = mapped_column(Text)
    repay_ref: Mapped[str | None] = mapped_column(String(100))
    opened_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    closed_at = mapped_column(UTCDateTime)

    pledge = relationship("Pledge")

    @property
    def open(self):
        return self.status in OPEN_DISPUTE_STATUSES

    def __repr__(self):
        return f"<Dispute {self.processor_ref} {self.status} {self.amount} {self.currency}>"
