"""Stretch goals: amounts above a reward campaign's goal, each with what it unlocks."""

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from .base import Money, UTCDateTime, db, utcnow
from .project import mark_project


class FundingModel:
    """The words stored in `projects.funding_model` and shown by the API."""

    ALL_OR_NOTHING = "all_or_nothing"  # the firm is paid only if the goal is met
    FLEXIBLE = "flexible"  # the firm keeps what is raised, even below the goal (reward only)
    ALL = (ALL_OR_NOTHING, FLEXIBLE)


class StretchGoal(db.Model):
    __tablename__ = "stretch_goals"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("project_id", "amount", name="uq_stretch_goals_project_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(Money)  # the total raised that unlocks it, above the goal
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    # Set once, by the pledge that first took the total to `amount` (its backers are mailed then).
    reached_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    project = relationship(
        "Project",
        backref=backref(
            "stretch_goals", order_by="StretchGoal.amount", cascade="all, delete-orphan", passive_deletes=True
        ),
    )


event.listen(StretchGoal, "after_insert", mark_project("has_stretch_goals"))
