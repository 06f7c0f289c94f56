"""The people a firm shows on its public profile (services/firm_record.py): names and roles its
founders write, not accounts."""

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db, utcnow


class FirmPerson(db.Model):
    __tablename__ = "firm_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(120), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)  # the order the founders gave
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
