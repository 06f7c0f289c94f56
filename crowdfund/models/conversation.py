"""The public conversation on a campaign: comments and questions, their reports, and who
asked not to be mailed about them (services/comments.py, services/comment_mail.py)."""

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow


class Comment(db.Model):
    """A comment or question on a campaign, or a reply to one (one level deep: a reply's
    parent is always a top-level comment)."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_project_created", "project_id", "created_at"),
        # The FAQ of a campaign: its pinned answers.
        Index(
            "ix_comments_pinned",
            "project_id",
            postgresql_where=text("pinned_at IS NOT NULL"),
            sqlite_where=text("pinned_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)  # Markdown as written
    body_html: Mapped[str] = mapped_column(Text)  # rendered and sanitised as the story is
    # Written by one of the firm's people: shown as the firm's answer. Kept as it was when
    # posted, so a founder who later leaves the firm still spoke for it then.
    as_firm: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # An answer of the firm's the founders put in the campaign's FAQ.
    pinned_at = mapped_column(UTCDateTime)
    # Hidden by an administrator: its text is never shown again; that it was hidden is.
    hidden_at = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    author = relationship("User", foreign_keys=[author_id])
    project = relationship("Project")
    parent = relationship("Comment", remote_side=[id])

    @property
    def is_hidden(self):
        return self.hidden_at is not None

    def __repr__(self):
        return f"<Comment {self.id} on {self.project_id}>"


class CommentReport(db.Model):
    """Someone asked the moderators to look at a comment. Open until an administrator hides
    the comment or keeps it."""

    __tablename__ = "comment_reports"
    __table_args__ = (UniqueConstraint("comment_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    closed_at = mapped_column(UTCDateTime)  # the comment was hidden, or kept

    comment = relationship("Comment")
    reporter = relationship("User")


class MailOptOut(db.Model):
    """An account that followed an unsubscribe link: no more mail of that `kind`."""

    __tablename__ = "mail_opt_outs"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # services/comment_mail.py: KINDS
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
