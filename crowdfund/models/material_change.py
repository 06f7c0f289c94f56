"""A material change to a live equity offering: what changed, who said so, and until when its
investors may reconfirm (services/material_changes.py). The row is the audit record."""

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import UTCDateTime, db, utcnow


class MaterialChange(db.Model):
    __tablename__ = "material_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # the founder or admin who marked it
    description: Mapped[str] = mapped_column(Text)
    reconfirm_by = mapped_column(UTCDateTime, nullable=False)
    commitments: Mapped[int] = mapped_column(Integer, default=0)  # how many were asked to reconfirm
    # The deadline when it came before `reconfirm_by`: the offering was extended (None: not moved).
    deadline_before = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user = relationship("User")
