"""Two-factor sign-in: an authenticator app's secret, and the recovery codes that stand in for it."""

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db, utcnow


class UserTwoFactor(db.Model):
    """The TOTP secret of one account (RFC 6238, 30-second steps).

    A row with no `enabled_at` is an enrolment begun but not yet confirmed with a code: the
    secret shown on the enrolment page, kept so that reloading the page does not invalidate
    what the person already scanned. The secret itself must be readable to check codes, so
    it is stored as it is; the recovery codes are stored as digests only.
    """

    __tablename__ = "user_two_factor"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    enabled_at = mapped_column(UTCDateTime)
    # The time step of the last code accepted: a code is good once, so one seen over a
    # shoulder or in a phishing proxy cannot be played again within its 30 seconds.
    last_used_step: Mapped[int | None] = mapped_column(Integer)


class RecoveryCode(db.Model):
    """A single-use code for signing in without the authenticator app (SHA-256 digest only)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_digest: Mapped[str] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    used_at = mapped_column(UTCDateTime)
