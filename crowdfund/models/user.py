from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised and lower-cased, so uniqueness is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Set by an admin (services/suspensions.py): no sign-in, no API, no new pledges until lifted.
    suspended_at = mapped_column(UTCDateTime)
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    # Set when the owner deleted the account (services/account_deletion.py): the row stays,
    # anonymised, because pledges, the ledger and the share register point at it.
    deleted_at = mapped_column(UTCDateTime)

    # None until the owner followed the link mailed to this address (services/email_verification.py);
    # until then the account may not pledge, invest or submit a project (EMAIL_VERIFICATION_REQUIRED).
    email_verified_at = mapped_column(UTCDateTime)
    # The terms and privacy notice accepted at registration: which version (config TERMS_VERSION), when.
    terms_version: Mapped[str | None] = mapped_column(String(32))
    terms_accepted_at = mapped_column(UTCDateTime)

    memberships = relationship("FirmMember", back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self):
        """Flask-Login's "may this account be signed in?": not while suspended or once deleted."""
        return self.suspended_at is None and self.deleted_at is None

    @property
    def firms(self):
        return [m.firm for m in self.memberships]

    @property
    def is_founder(self):
        return bool(self.memberships)

    def __repr__(self):
        return f"<User {self.id} {self.email}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API, stored as a SHA-256 digest only."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    revoked_at = mapped_column(UTCDateTime)
    label: Mapped[str | None] = mapped_column(Text)

    user = relationship("User")


class UserSession(db.Model):
    """A browser signed in to an account (web/auth/sessions.py). The session cookie carries a
    random key; only its SHA-256 digest is stored here, so a copy of the database signs nobody
    in. A request is signed in only while its record is live: ending it (logout, a password
    change or reset, "end this session") makes every copy of the cookie worthless."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Moved forward at most every SESSION_TOUCH_INTERVAL seconds, so most requests write nothing.
    last_seen_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(45))
    ended_at = mapped_column(UTCDateTime)

    user = relationship("User")
