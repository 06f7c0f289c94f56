"""Projects (campaigns) and what hangs off them: tiers, equity terms, documents, reviews."""

import enum

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, event, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import BigId, Money, UTCDateTime, db, trigram_indexes, utcnow


class ProjectKind(str, enum.Enum):
    REWARD = "reward"
    EQUITY = "equity"


class ProjectStatus(str, enum.Enum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    LIVE = "live"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"


class Project(db.Model):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("goal > 0", name="goal_positive"),
        CheckConstraint("pledged_amount >= 0", name="pledged_not_negative"),
        # The discover orders ("ending soon", "newest"), with or without a category.
        Index("ix_projects_status_deadline", "status", "deadline"),
        Index("ix_projects_status_category_deadline", "status", "category", "deadline"),
        Index("ix_projects_status_launched_at", "status", "launched_at"),
        *trigram_indexes("projects", "title", "summary"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default=ProjectStatus.DRAFT.value)
    title: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown as written
    description_html: Mapped[str] = mapped_column(Text, default="")  # rendered and sanitised
    category: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    goal: Mapped[int] = mapped_column(Money)
    # all_or_nothing | flexible (models/stretch_goal.py FundingModel): may the firm keep a
    # total below the goal? Flexible is for reward campaigns only.
    funding_model: Mapped[str] = mapped_column(String(20), default="all_or_nothing", server_default="all_or_nothing")
    # at_success | on_delivery (models/delivery.py ReleaseModel): is part of a successful reward
    # campaign's money held until each backer's reward is delivered?
    release_model: Mapped[str] = mapped_column(String(20), default="at_success", server_default="at_success")
    # Does the campaign page need to ask for its "Changes" list, its stretch goals? Most campaigns
    # have neither, and their page then costs no query for them. Set by the first row written
    # (the mapper events below); never cleared, as an empty answer costs only the query.
    has_changes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    has_stretch_goals: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Does any path need to ask for its add-ons (the backing page, a pledge's pricing, the API)?
    # Set like the two above (models/backing.py); left true when the last add-on is removed.
    has_add_ons: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    risks: Mapped[str] = mapped_column(Text, default="")
    use_of_funds: Mapped[str] = mapped_column(Text, default="")
    duration_days: Mapped[int | None] = mapped_column(Integer)  # the founder's plan before launch
    risk_grade: Mapped[str | None] = mapped_column(String(1))
    deadline = mapped_column(UTCDateTime, index=True)
    launched_at = mapped_column(UTCDateTime)
    closed_at = mapped_column(UTCDateTime)
    # Running totals of held pledges, kept in the same transaction as each pledge.
    pledged_amount: Mapped[int] = mapped_column(Money, default=0)
    backer_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    firm = relationship("Firm")
    created_by = relationship("User")
    tiers = relationship(
        "RewardTier", back_populates="project", order_by="RewardTier.position", cascade="all, delete-orphan"
    )
    equity = relationship("EquityOffering", back_populates="project", uselist=False, cascade="all, delete-orphan")
    documents = relationship("ProjectDocument", back_populates="project", cascade="all, delete-orphan")
    reviews = relationship(
        "Review", back_populates="project", order_by="Review.created_at", cascade="all, delete-orphan"
    )
    updates = relationship(
        "ProjectUpdate",
        back_populates="project",
        order_by="ProjectUpdate.created_at.desc()",
        cascade="all, delete-orphan",
    )

    def __repr__(self):
        return f"<Project {self.id} {self.slug} {self.status}>"


class RewardTier(db.Model):
    __tablename__ = "reward_tiers"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("quantity IS NULL OR sold <= quantity", name="never_oversold"),
        CheckConstraint("sold >= 0", name="sold_not_negative"),
        CheckConstraint("shipping IN ('none', 'domestic', 'worldwide')", name="shipping_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int] = mapped_column(Money)
    quantity: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    sold: Mapped[int] = mapped_column(Integer, default=0)  # units in pending or held pledges
    per_backer_limit: Mapped[int | None] = mapped_column(Integer)
    estimated_delivery: Mapped[str | None] = mapped_column(String(7))  # "YYYY-MM"
    shipping: Mapped[str] = mapped_column(String(10), default="none")
    shipping_fee: Mapped[int] = mapped_column(Money, default=0)
    # Fees per destination ([{"to", "fee"}], domain/shipping.py); None: `shipping_fee` wherever it ships.
    shipping_rates: Mapped[list | None] = mapped_column(JSON)
    available_from = mapped_column(UTCDateTime)
    available_until = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    project = relationship("Project", back_populates="tiers")

    @property
    def remaining(self):
        return None if self.quantity is None else max(self.quantity - self.sold, 0)


class EquityOffering(db.Model):
    __tablename__ = "equity_offerings"
    __table_args__ = (
        CheckConstraint("price_per_share > 0", name="price_positive"),
        CheckConstraint("shares_offered > 0", name="offered_positive"),
        CheckConstraint("shares_committed >= 0 AND shares_committed <= shares_offered", name="never_oversold"),
        CheckConstraint("min_shares >= 1", name="min_shares_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), unique=True)
    security_type: Mapped[str] = mapped_column(String(30), default="ordinary_shares")
    price_per_share: Mapped[int] = mapped_column(Money)
    shares_offered: Mapped[int] = mapped_column(BigId)  # the hard maximum
    shares_committed: Mapped[int] = mapped_column(BigId, default=0)  # pending or held
    min_shares: Mapped[int] = mapped_column(BigId, default=1)
    pre_money_valuation: Mapped[int] = mapped_column(Money)
    shares_outstanding: Mapped[int] = mapped_column(BigId)

    project = relationship("Project", back_populates="equity")

    @property
    def shares_remaining(self):
        return self.shares_offered - self.shares_committed


class ProjectDocument(db.Model):
    __tablename__ = "project_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # business_plan | financial_statements | cover
    filename: Mapped[str] = mapped_column(String(200))  # as the founder named it
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)  # under instance/uploads
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    project = relationship("Project", back_populates="documents")


class Review(db.Model):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(20))  # approve | request_changes | reject
    note: Mapped[str] = mapped_column(Text, default="")
    risk_grade: Mapped[str | None] = mapped_column(String(1))
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    project = relationship("Project", back_populates="reviews")
    reviewer = relationship("User")


class ProjectUpdate(db.Model):
    """News the founder posts to backers."""

    __tablename__ = "project_updates"
    # The updates still to be mailed to their backers (workflows/announcements.py, announce_pending).
    __table_args__ = (
        Index(
            "ix_project_updates_unannounced",
            "id",
            postgresql_where=text("announced_at IS NULL"),
            sqlite_where=text("announced_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    # The founder's Markdown, the text of the mail to backers; pages show body_html, so it is
    # loaded only when read.
    body: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)
    body_html: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    announced_at = mapped_column(UTCDateTime)  # when every backer's mail was queued
    # public: on the page for everyone; backers: its text only for the campaign's backers and
    # its firm (everyone else sees the title, locked). Mailed to the backers either way.
    audience: Mapped[str] = mapped_column(String(10), default="public", server_default="public")

    project = relationship("Project", back_populates="updates")
    author = relationship("User")


class ProjectEdit(db.Model):
    """A logged change to a project after approval (terms are locked; the story is not).
    Shown in the campaign's public "Changes" list (services/change_history.py)."""

    __tablename__ = "project_edits"
    # The changes an administrator has still to look at (the admin's "Campaign changes" queue).
    __table_args__ = (
        Index(
            "ix_project_edits_awaiting_review",
            "project_id",
            postgresql_where=text("needs_review AND reviewed_at IS NULL"),
            sqlite_where=text("needs_review AND reviewed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    field: Mapped[str] = mapped_column(String(50))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Risks, use of funds and documents changed after approval wait for an administrator's look
    # (the campaign stays live meanwhile): who looked, and when.
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reviewed_at = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


def mark_project(flag):
    """A mapper event that sets `flag` on the project of the row just inserted (one UPDATE,
    only while it is still false), whichever code wrote the row."""

    def set_flag(mapper, connection, row):
        projects = Project.__table__
        connection.execute(
            projects.update().where(projects.c.id == row.project_id, projects.c[flag].is_(False)).values({flag: True})
        )

    return set_flag


event.listen(ProjectEdit, "after_insert", mark_project("has_changes"))
