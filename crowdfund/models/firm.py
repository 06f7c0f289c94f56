from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, trigram_indexes, utcnow


class Firm(db.Model):
    __tablename__ = "firms"
    __table_args__ = (UniqueConstraint("country", "registration_number"), *trigram_indexes("firms", "legal_name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    registration_number: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(2))
    address: Mapped[str] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    members = relationship("FirmMember", back_populates="firm", cascade="all, delete-orphan")
    # Where released money is paid: the account the processor's onboarding made, never a
    # typed id (services/payout_accounts.py). None until the founder sets up payouts.
    payout_account = relationship(
        "PayoutAccount",
        uselist=False,
        viewonly=True,
        primaryjoin="and_(Firm.id == PayoutAccount.firm_id, PayoutAccount.role == 'current')",
    )

    def has_member(self, user):
        return user is not None and any(m.user_id == user.id for m in self.members)

    def __repr__(self):
        return f"<Firm {self.id} {self.legal_name}>"


class FirmMember(db.Model):
    __tablename__ = "firm_members"
    __table_args__ = (UniqueConstraint("firm_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="owner")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    firm = relationship("Firm", back_populates="members")
    user = relationship("User", back_populates="memberships")


class PayoutAccount(db.Model):
    """A firm's account at the payment processor (a Stripe connected account, or the
    sandbox's), made by the processor's onboarding. Its `status` is what the processor last
    said when asked (never what a webhook claimed), moved by `payout_accounts.set_status`.

    A firm has one `current` account: the one payouts go to. An account set up to replace
    it while the firm's details are locked is `proposed` until an admin approves the change
    request naming it; a replaced or refused one is `retired` and kept for the record."""

    __tablename__ = "payout_accounts"
    __table_args__ = (
        Index(
            "uq_payout_accounts_current",
            "firm_id",
            unique=True,
            postgresql_where=text("role = 'current'"),
            sqlite_where=text("role = 'current'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    processor: Mapped[str] = mapped_column(String(20))  # the gateway that made it: sandbox | stripe
    processor_ref: Mapped[str] = mapped_column(String(100), unique=True)  # acct_...
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | verified | restricted
    role: Mapped[str] = mapped_column(String(10), default="current")  # current | proposed | retired
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    status_changed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    verified_at = mapped_column(UTCDateTime)  # the last time it became verified

    firm = relationship("Firm")


class FirmChangeRequest(db.Model):
    """A change of locked firm details (legal name, country, registration number, payout
    account) that an admin approves or rejects (services/firm_changes.py)."""

    __tablename__ = "firm_change_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changes: Mapped[dict] = mapped_column(JSON)  # {field: new value}, only the fields asked
    previous: Mapped[dict] = mapped_column(JSON)  # {field: value when asked}, for the reviewer
    # A new account to pay out to, once verified and approved (role `proposed` meanwhile).
    payout_account_id: Mapped[int | None] = mapped_column(ForeignKey("payout_accounts.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | approved | rejected
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")

    firm = relationship("Firm")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    payout_account = relationship("PayoutAccount")


class FirmEdit(db.Model):
    """A logged change of one firm field: by its people directly (unlocked fields, or any
    while unlocked), or by an admin's approval of a change request."""

    __tablename__ = "firm_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    field: Mapped[str] = mapped_column(String(50))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    change_request_id: Mapped[int | None] = mapped_column(ForeignKey("firm_change_requests.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
