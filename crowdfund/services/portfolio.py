"""What a backer or investor holds, summed for their pages: shares per campaign with the
stake they are of the firm, and totals per currency (money is never added across currencies)."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Project, ShareHolding


@dataclass
class Holding:
    project: Project
    shares: int = 0
    paid: int = 0  # minor units of `currency`
    currency: str = ""
    security_type: str = "ordinary_shares"
    first_acquired_at: object = None
    stake_bps: int | None = None  # basis points of the firm's shares after the offering


@dataclass
class Portfolio:
    holdings: list = field(default_factory=list)
    totals: dict = field(default_factory=dict)  # {currency: minor units paid}
    shares: int = 0


def stake_bps(shares, offering):
    """`shares` as basis points of the firm's shares once the offering closed: those outstanding
    before it plus those it sold (committed, as the register records them)."""
    if offering is None:
        return None
    total = (offering.shares_outstanding or 0) + (offering.shares_committed or 0)
    return shares * 10_000 // total if total else None


def holdings_of(user):
    """The user's register entries, one line per campaign, newest first, with totals."""
    entries = db.session.scalars(
        select(ShareHolding)
        .where(ShareHolding.user_id == user.id)
        .options(joinedload(ShareHolding.firm))
        .order_by(ShareHolding.acquired_at.desc(), ShareHolding.id.desc())
    ).all()
    by_project, portfolio = {}, Portfolio()
    for entry in entries:
        line = by_project.get(entry.project_id)
        if line is None:
            project = db.session.get(Project, entry.project_id)
            line = by_project[entry.project_id] = Holding(
                project=project, currency=entry.currency, security_type=entry.security_type
            )
            portfolio.holdings.append(line)
        line.shares += entry.shares
        line.paid += entry.shares * entry.price_per_share
        if line.first_acquired_at is None or entry.acquired_at < line.first_acquired_at:
            line.first_acquired_at = entry.acquired_at
    for line in portfolio.holdings:
        line.stake_bps = stake_bps(line.shares, line.project.equity)
        portfolio.totals[line.currency] = portfolio.totals.get(line.currency, 0) + line.paid
        portfolio.shares += line.shares
    return portfolio
