"""Reference exchange rates an admin keeps current (config FX_RATES is the default)."""

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db, utcnow


class FxRate(db.Model):
    """Units of `currency` one US dollar buys, as published on `as_of` (a decimal string: no floats)."""

    __tablename__ = "fx_rates"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    per_usd: Mapped[str] = mapped_column(String(32))
    as_of = mapped_column(Date, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
