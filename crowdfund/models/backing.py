"""What backing a reward campaign adds to tiers and pledges: add-on items, and the changes a
backer makes to a held pledge while the campaign is live (issue 23)."""

import enum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from .base import BigId, Money, UTCDateTime, db, utcnow
from .project import mark_project


class RewardAddOn(db.Model):
    """An item a backer may add to a reward pledge: its own price, stock and shipping."""

    __tablename__ = "reward_add_ons"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("quantity IS NULL OR sold <= quantity", name="never_oversold"),
        CheckConstraint("sold >= 0", name="sold_not_negative"),
        CheckConstraint("shipping IN ('none', 'domestic', 'worldwide')", name="shipping_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int] = mapped_column(Money)
    quantity: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    sold: Mapped[int] = mapped_column(Integer, default=0)  # units in pending or held pledges
    shipping: Mapped[str] = mapped_column(String(10), default="none")
    shipping_fee: Mapped[int] = mapped_column(Money, default=0)
    # Fees per destination ([{"to", "fee"}], domain/shipping.py); None: `shipping_fee` wherever it ships.
    shipping_rates: Mapped[list | None] = mapped_column(JSON)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    # `project.add_ons`, in the founder's order (the API's project, the backing page).
    project = relationship(
        "Project",
        backref=backref(
            "add_ons",
            order_by="RewardAddOn.position, RewardAddOn.id",
            cascade="all, delete-orphan",
            passive_deletes=True,
        ),
    )

    @property
    def remaining(self):
        return None if self.quantity is None else max(self.quantity - self.sold, 0)


event.listen(RewardAddOn, "after_insert", mark_project("has_add_ons"))


class PledgeChangeStatus(str, enum.Enum):
    PENDING = "pending"  # new units reserved; the processor not asked yet, or no answer
    # An upgrade's charge waits for the backer (3-D Secure, a wallet): `charge_ref` is kept, the
    # added units stay taken, the pledge keeps its old terms until the payment's outcome.
    REQUIRES_ACTION = "requires_action"
    REFUND_PENDING = "refund_pending"  # booked; a refund at the processor still to confirm
    DONE = "done"
    FAILED = "failed"  # declined or refused: the pledge stayed as it was
    # Its refund was booked, then the backer's bank refused it: owed to the backer until an admin
    # retries (workflows/change_refund_failures.py).
    REFUND_FAILED = "refund_failed"


class PledgeChange(db.Model):
    """One change of a held pledge (tier, quantity, add-ons, address) and its money.

    `workflows/pledge_change.py` explains the transactions; this row is what lets a crash
    between them be finished later (`resume`): it holds the new terms until they apply."""

    __tablename__ = "pledge_changes"
    __table_args__ = (UniqueConstraint("pledge_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per pledge: names its processor keys
    status: Mapped[str] = mapped_column(String(20), default=PledgeChangeStatus.PENDING.value)
    before: Mapped[dict] = mapped_column(JSON)  # the priced terms replaced
    after: Mapped[dict] = mapped_column(JSON)  # the priced terms applied
    amount_before: Mapped[int] = mapped_column(Money)
    amount_after: Mapped[int] = mapped_column(Money)
    # An upgrade charges the new total and refunds the old charge; a downgrade refunds the difference.
    charge_ref: Mapped[str | None] = mapped_column(String(100))
    refund_ref: Mapped[str | None] = mapped_column(String(100))
    old_charge_ref: Mapped[str | None] = mapped_column(String(100))
    payment_method: Mapped[str | None] = mapped_column(String(100))
    failure_code: Mapped[str | None] = mapped_column(String(50))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ended_at = mapped_column(UTCDateTime)
    processor_fee: Mapped[int | None] = mapped_column(BigId)

    pledge = relationship("Pledge")

    @property
    def difference(self):
        return self.amount_after - self.amount_before
