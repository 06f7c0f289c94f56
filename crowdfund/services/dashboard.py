"""What a founder sees about a campaign: funding over time, reward sales, the money, the backers list.

Read-only queries; members only (the views check `projects.is_member` first).
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import Pledge, RewardTier
from ..models.pledge import PledgeStatus as PS
from . import statements, updates
from .projects.access import require_member

# Pledges whose money is in escrow, or was released to the firm.
COUNTED = (PS.HELD.value, PS.RELEASED.value)


def funding_points(project):
    """[(held_at, cumulative amount)] for the pledges held (or released) on `project`, oldest first."""
    rows = db.session.execute(
        select(Pledge.held_at, Pledge.amount)
        .where(Pledge.project_id == project.id, Pledge.status.in_(COUNTED), Pledge.held_at.is_not(None))
        .order_by(Pledge.held_at, Pledge.id)
    ).all()
    total, points = 0, []
    for held_at, amount in rows:
        total += amount
        points.append((held_at, total))
    return points


@dataclass(frozen=True)
class TierSales:
    tier: RewardTier
    units: int  # in held or released pledges
    backers: int
    revenue: int  # the reward price x units (extras and shipping not included)


def tier_sales(project):
    stats = {
        tier_id: (units, backers, revenue)
        for tier_id, units, backers, revenue in db.session.execute(
            select(
                Pledge.tier_id,
                func.coalesce(func.sum(Pledge.quantity), 0),
                func.count(func.distinct(Pledge.backer_id)),
                func.coalesce(func.sum(Pledge.reward_amount), 0),
            )
            .where(Pledge.project_id == project.id, Pledge.status.in_(COUNTED), Pledge.tier_id.is_not(None))
            .group_by(Pledge.tier_id)
        ).all()
    }
    return [TierSales(tier, *[int(v) for v in stats.get(tier.id, (0, 0, 0))]) for tier in project.tiers]


def pledge_counts(project):
    """{status: count} of every pledge on the project."""
    return dict(
        db.session.execute(
            select(Pledge.status, func.count()).where(Pledge.project_id == project.id).group_by(Pledge.status)
        ).all()
    )


def backers(user, project):
    """The pledges held or released on `project`, oldest first, for the founder's backer list."""
    require_member(user, project)
    return db.session.scalars(
        select(Pledge)
        .where(Pledge.project_id == project.id, Pledge.status.in_(COUNTED))
        .order_by(Pledge.held_at, Pledge.id)
    ).all()


@dataclass(frozen=True)
class Overview:
    """The founder's dashboard of one campaign."""

    funding_points: list  # see funding_points(); empty before launch
    statement: dict | None  # statements.statement(), once launched
    tier_sales: list  # [TierSales], reward campaigns only
    pledge_counts: dict  # {status: count}
    can_post_update: bool


def overview(project):
    launched = project.launched_at is not None
    return Overview(
        funding_points=funding_points(project) if launched else [],
        statement=statements.statement(project) if launched else None,
        tier_sales=tier_sales(project) if project.kind == "reward" else [],
        pledge_counts=pledge_counts(project),
        can_post_update=updates.can_post(project),
    )
