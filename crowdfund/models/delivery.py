"""Release on delivery (reward campaigns whose `release_model` is `on_delivery`): each pledge's
held remainder, the shipments that carry its reward, and the daily payouts of what was released.

The money itself is in the ledger (`held_for_delivery:project:<id>`); these rows say where each
pledge's delivery is, so the ledger's verify can check the two agree.
"""

import enum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import BigId, Money, UTCDateTime, db, utcnow


class ReleaseModel:
    """The words stored in `projects.release_model` and shown by the API."""

    AT_SUCCESS = "at_success"  # everything released when the campaign succeeds (the default)
    ON_DELIVERY = "on_delivery"  # part at success, the rest pledge by pledge as rewards arrive
    ALL = (AT_SUCCESS, ON_DELIVERY)


class DeliveryStatus(str, enum.Enum):
    """Where a pledge's reward is; the first three hold money in `held_for_delivery`."""

    AWAITING_SHIPMENT = "awaiting_shipment"
    SHIPPED = "shipped"  # waiting for the backer's confirmation (or DELIVERY_CONFIRM_DAYS)
    PROBLEM = "problem"  # the backer reported a problem: held for an admin
    REFUNDING = "refunding"  # an admin refunds the held remainder (workflows/delivery_release.py)
    RELEASED = "released"  # the held remainder went to the firm
    REFUNDED = "refunded"  # the held remainder went back to the backer
    # The backer disputed the charge: the processor took the pledge's money back, the remainder
    # too, from wherever it was (services/delivery_disputes.py). Won: back where it was; lost:
    # it ends here (`ended_at`), nothing more to release or refund.
    DISPUTED = "disputed"


HOLDING = (
    DeliveryStatus.AWAITING_SHIPMENT.value,
    DeliveryStatus.SHIPPED.value,
    DeliveryStatus.PROBLEM.value,
    DeliveryStatus.REFUNDING.value,
)


class Shipment(db.Model):
    """One parcel (or batch of parcels under one tracking number) a founder recorded."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(60))
    tracking: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class PledgeDelivery(db.Model):
    """One per released pledge of an `on_delivery` campaign, written by its settlement."""

    __tablename__ = "pledge_deliveries"
    __table_args__ = (
        CheckConstraint("held_amount >= 0", name="held_not_negative"),
        Index("ix_pledge_deliveries_project_status", "project_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(BigId, ForeignKey("pledges.id"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("reward_tiers.id"))
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.AWAITING_SHIPMENT.value)
    held_amount: Mapped[int] = mapped_column(Money)  # what waits in held_for_delivery
    currency: Mapped[str] = mapped_column(String(3))
    due_month: Mapped[str | None] = mapped_column(String(7))  # the tier's estimated delivery, "YYYY-MM"
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    shipped_at = mapped_column(UTCDateTime)
    confirm_by = mapped_column(UTCDateTime, index=True)  # shipped + DELIVERY_CONFIRM_DAYS
    problem_reason: Mapped[str | None] = mapped_column(Text)
    problem_at = mapped_column(UTCDateTime)
    late_flagged_at = mapped_column(UTCDateTime)  # not shipped DELIVERY_GRACE_DAYS after due_month
    released_how: Mapped[str | None] = mapped_column(String(20))  # confirmed | timed_out | admin
    ended_at = mapped_column(UTCDateTime)  # released or refunded
    # The refund of the held remainder, like a settlement refund: a lease or back-off, tries,
    # and the error that parked it for an admin.
    refund_ref: Mapped[str | None] = mapped_column(String(100))
    refund_after = mapped_column(UTCDateTime)
    refund_attempts: Mapped[int] = mapped_column(Integer, default=0)
    refund_error: Mapped[str | None] = mapped_column(Text)
    parked: Mapped[bool] = mapped_column(Boolean, default=False)
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_payouts.id"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    pledge = relationship("Pledge")
    shipment = relationship("Shipment")
    tier = relationship("RewardTier")


class DeliveryPayout(db.Model):
    """A day's batch of released remainders of one campaign, paid to the firm in one payout."""

    __tablename__ = "delivery_payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | paid | needs_attention
    ref: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    refusals: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    paid_at = mapped_column(UTCDateTime)
