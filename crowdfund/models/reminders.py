"""Mail a person asked for about a campaign: a reminder before its deadline, and the notice
that a campaign they backed reached its goal (services/reminders.py, services/goal_notices.py)."""

from sqlalchemy import ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import UTCDateTime, db, utcnow


class CampaignReminder(db.Model):
    """ "Remind me": one mail to `user_id` REMINDER_LEAD_SECONDS before the campaign's deadline.
    Deleted when the person turns it off; `sent_at` once its mail is queued (never twice)."""

    __tablename__ = "campaign_reminders"
    __table_args__ = (
        UniqueConstraint("user_id", "project_id"),
        # The sweep's queue: reminders not sent yet, by campaign.
        Index(
            "ix_campaign_reminders_unsent",
            "project_id",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at = mapped_column(UTCDateTime)


class GoalNotice(db.Model):
    """A campaign's held pledges reached its goal (written by the pledge that crossed it, once);
    `announced_at` once every backer's mail is queued."""

    __tablename__ = "campaign_goal_notices"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    reached_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    announced_at = mapped_column(UTCDateTime)
