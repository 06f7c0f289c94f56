"""The mail outbox: email written with the change it tells of, delivered after the commit."""

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db, utcnow


class OutboxMessage(db.Model):
    """An email written in the same transaction as its event and delivered after commit."""

    __tablename__ = "outbox_messages"
    # The delivery run's queue, oldest first: only unsent rows, so a claim reads straight to
    # them instead of past every message already sent (crowdfund/jobs/mail.py).
    __table_args__ = (
        Index(
            "ix_outbox_messages_unsent",
            "created_at",
            "id",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(150), unique=True)  # e.g. "pledge_receipt:42"
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    # An HTML alternative, for mail whose content is formatted (a founder's update): sanitised.
    body_html: Mapped[str | None] = mapped_column(Text)
    # The List-Unsubscribe header's address, for mail a person can stop (services/comment_mail.py).
    list_unsubscribe: Mapped[str | None] = mapped_column(String(500))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    sent_at = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
