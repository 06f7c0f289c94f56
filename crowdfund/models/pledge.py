"""Pledges (reward pledges and equity commitments) and the backer's investor profile."""

import enum

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import BigId, Money, UTCDateTime, db, utcnow


class PledgeStatus(str, enum.Enum):
    PENDING = "pending"  # payment in flight; units reserved
    REQUIRES_ACTION = "requires_action"  # the backer must authenticate or pay in a wallet; units reserved
    HELD = "held"  # money in escrow
    RELEASED = "released"  # campaign succeeded; money went to the firm (net) and fees
    REFUNDED = "refunded"  # campaign did not succeed; money returned
    CANCELLED = "cancelled"  # the backer cancelled; money returned
    FAILED = "failed"  # payment declined, refused or abandoned; never touched escrow
    DISPUTED = "disputed"  # the backer disputed the charge; the processor took the money back


class Pledge(db.Model):
    __tablename__ = "pledges"
    __table_args__ = (
        UniqueConstraint("backer_id", "idempotency_key"),
        CheckConstraint("amount > 0", name="amount_positive"),
        # With the id last, "the next batch of a project's held pledges, in id order" (settlement)
        # reads just that batch from the index instead of sorting every held pledge each time.
        Index("ix_pledges_project_status", "project_id", "status", "id"),
        Index("ix_pledges_backer_created", "backer_id", "created_at"),
        # The reconfirmation sweep reads only the few commitments that wait (most rows: NULL).
        Index("ix_pledges_reconfirm_by", "reconfirm_by"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    backer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default=PledgeStatus.PENDING.value)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the API request that made it (route + canonical JSON body): a replay of the
    # key with another body is refused (409) rather than answered with this pledge.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # What was bought
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("reward_tiers.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    shares: Mapped[int | None] = mapped_column(BigId)
    # The amount is computed on the server: reward + extra + shipping (or shares x price).
    reward_amount: Mapped[int] = mapped_column(Money, default=0)
    extra_amount: Mapped[int] = mapped_column(Money, default=0)
    shipping_fee: Mapped[int] = mapped_column(Money, default=0)
    # Add-on items ([{"id", "title", "quantity", "price"}]) and what they cost together.
    add_ons: Mapped[list | None] = mapped_column(JSON)
    add_ons_amount: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    shipping_address: Mapped[dict | None] = mapped_column(JSON)
    # Payment
    payment_method: Mapped[str] = mapped_column(String(100))
    charge_ref: Mapped[str | None] = mapped_column(String(100))
    refund_ref: Mapped[str | None] = mapped_column(String(100))
    # While `requires_action`: what the backer must do ({"type", "url", "client_secret"}),
    # as the processor said; cleared when the payment ends one way or the other.
    next_action: Mapped[dict | None] = mapped_column(JSON)
    failure_code: Mapped[str | None] = mapped_column(String(50))
    failure_message: Mapped[str | None] = mapped_column(Text)
    # Settlement: attempts and the error that parked it for an admin, if any
    settlement_attempts: Mapped[int] = mapped_column(Integer, default=0)
    settlement_error: Mapped[str | None] = mapped_column(Text)
    parked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Settlement leaves a pledge alone until then: a worker's claim on it, or a retry's back-off.
    settle_after = mapped_column(UTCDateTime)
    # Equity: when the investor confirmed, for this commitment, that they may lose it all and
    # cannot easily sell (the API's `acknowledge_risks`, the form's checkbox).
    risks_acknowledged_at = mapped_column(UTCDateTime)
    # eu_ecsp: the investor acknowledged the warning for a project above the large-investment mark.
    large_investment_acknowledged_at = mapped_column(UTCDateTime)
    # Equity, after a material change to the offering (services/material_changes.py): the
    # investor must reconfirm by then or the commitment is cancelled and refunded. Set only
    # while it waits; `reconfirmed_at` keeps the last reconfirmation.
    reconfirm_by = mapped_column(UTCDateTime)
    reconfirmed_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    held_at = mapped_column(UTCDateTime)
    ended_at = mapped_column(UTCDateTime)  # released, refunded, cancelled or failed

    project = relationship("Project")
    backer = relationship("User")
    tier = relationship("RewardTier")

    def __repr__(self):
        return f"<Pledge {self.id} {self.status} {self.amount} {self.currency}>"


class InvestorProfile(db.Model):
    """What an investor told us before their first equity commitment."""

    __tablename__ = "investor_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    annual_income: Mapped[int] = mapped_column(Money)
    net_worth: Mapped[int] = mapped_column(Money)
    accredited: Mapped[bool] = mapped_column(Boolean, default=False)
    other_investments_12m: Mapped[int] = mapped_column(Money, default=0)
    risk_acknowledged_at = mapped_column(UTCDateTime)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    user = relationship("User")


class ShareHolding(db.Model):
    """The share register: one entry per settled equity commitment."""

    __tablename__ = "share_holdings"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), unique=True)
    shares: Mapped[int] = mapped_column(BigId)
    price_per_share: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    security_type: Mapped[str] = mapped_column(String(30), default="ordinary_shares")
    acquired_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user = relationship("User")
    firm = relationship("Firm")
