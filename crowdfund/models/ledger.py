"""The double-entry ledger (after TigerBeetle): accounts and append-only transfers."""

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import BigId, Money, UTCDateTime, db, utcnow


class LedgerAccount(db.Model):
    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # e.g. "gateway_clearing:CNY", "escrow:project:12", "firm_payable:firm:3:CNY", "platform_fees:CNY"
    key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(String(3))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    firm_id: Mapped[int | None] = mapped_column(ForeignKey("firms.id"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class LedgerTransfer(db.Model):
    """Money moving from the debit account to the credit account. Never updated or deleted."""

    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        Index("ix_ledger_transfers_debit", "debit_account_id"),
        Index("ix_ledger_transfers_credit", "credit_account_id"),
    )

    # Chosen by the caller from its own ids ("pledge:42:hold"), so a replay finds the first row.
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    code: Mapped[str] = mapped_column(String(30))  # pledge_hold, pledge_refund, release_net, ...
    pledge_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("pledges.id"), index=True)
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    debit_account = relationship("LedgerAccount", foreign_keys=[debit_account_id])
    credit_account = relationship("LedgerAccount", foreign_keys=[credit_account_id])
