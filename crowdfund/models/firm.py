from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
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
    # Where released money is paid: a sandbox account id or a Stripe connected account id.
    payout_account_ref: Mapped[str] = mapped_column(String(100))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    members = relationship("FirmMember", back_populates="firm", cascade="all, delete-orphan")

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
