"""What an investor proved before investing, under the rulebooks that ask for it.

- `InvestorAssessment` (eu_ecsp): each entry knowledge test taken and each loss-bearing
  simulation acknowledged; the newest passing one of each kind counts until it is too old.
- `InvestorQualification` (cn): the investor's claim to be a qualified investor, its evidence
  (stored privately, never served publicly) and an admin's decision.
"""

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Money, UTCDateTime, db, utcnow

KNOWLEDGE_TEST = "knowledge_test"
LOSS_SIMULATION = "loss_simulation"


class InvestorAssessment(db.Model):
    __tablename__ = "investor_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # KNOWLEDGE_TEST | LOSS_SIMULATION
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[int | None] = mapped_column(Integer)  # knowledge test: right answers
    questions: Mapped[int | None] = mapped_column(Integer)
    net_worth: Mapped[int | None] = mapped_column(Money)  # simulation: as stated, minor units of `currency`
    loss_capacity: Mapped[int | None] = mapped_column(Money)  # simulation: what was shown
    currency: Mapped[str | None] = mapped_column(String(3))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class QualificationStatus:
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class InvestorQualification(db.Model):
    __tablename__ = "investor_qualifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=QualificationStatus.PENDING, index=True)
    basis: Mapped[str] = mapped_column(String(20))  # "financial_assets" | "annual_income"
    amount: Mapped[int] = mapped_column(Money)  # the figure stated, minor units of `currency`
    currency: Mapped[str] = mapped_column(String(3))
    evidence_filename: Mapped[str] = mapped_column(String(200))
    evidence_stored_name: Mapped[str] = mapped_column(String(100))
    evidence_content_type: Mapped[str] = mapped_column(String(50))
    evidence_size: Mapped[int] = mapped_column(Integer)
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    submitted_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")

    user = relationship("User", foreign_keys=[user_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
