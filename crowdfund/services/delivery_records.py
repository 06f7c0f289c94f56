"""Release on delivery, read: the statement's part, a receipt's delivery, the founder's per-tier
progress and shipping list, the firm's public delivery performance, the admin's queue."""

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from .. import ledger
from ..domain.release_models import late_after
from ..extensions import db
from ..models import DeliveryPayout, Pledge, PledgeDelivery, Project, RewardTier, Shipment, User
from ..models.delivery import DeliveryStatus as DS


def apply_to_statement(sums, totals, project):
    """The statement's `held_for_delivery`, and where released and refunded remainders count:
    a remainder delivered is owed to the firm (`awaiting_payout`, until the delivery payout
    sends it, which `paid_out` already counts), one refunded went back to its backer
    (`refunded`; `delivery_refunded` says how much of it)."""
    released = totals.get(ledger.DELIVERY_RELEASE, (0, 0))[1]
    refunded = totals.get(ledger.DELIVERY_REFUND, (0, 0))[1]
    sums["awaiting_payout"] += released
    sums["refunded"] += refunded
    sums["delivery_refunded"] = refunded
    account = ledger.accounts.find_account(ledger.held_for_delivery_key(project.id))
    sums["held_for_delivery"] = ledger.balance(account.key) if account is not None else 0


@dataclass(frozen=True)
class ReceiptDelivery:
    """What a backer's receipt shows of their reward's delivery."""

    status: str
    held_amount: int
    currency: str
    carrier: str | None
    tracking: str | None
    shipped_at: object
    confirm_by: object
    problem_reason: str | None
    released_how: str | None
    late: bool

    @property
    def can_confirm(self):
        return self.status in (DS.AWAITING_SHIPMENT.value, DS.SHIPPED.value, DS.PROBLEM.value)

    @property
    def can_report(self):
        return self.status in (DS.AWAITING_SHIPMENT.value, DS.SHIPPED.value)


def receipt_delivery(pledge_id):
    """The delivery of a pledge, or None when its money is not held for delivery."""
    row = db.session.execute(
        select(PledgeDelivery, Shipment)
        .outerjoin(Shipment, Shipment.id == PledgeDelivery.shipment_id)
        .where(PledgeDelivery.pledge_id == pledge_id)
    ).first()
    if row is None:
        return None
    d, shipment = row
    return ReceiptDelivery(
        d.status,
        d.held_amount,
        d.currency,
        shipment.carrier if shipment else None,
        shipment.tracking if shipment else None,
        d.shipped_at,
        d.confirm_by,
        d.problem_reason,
        d.released_how,
        d.late_flagged_at is not None,
    )


def tier_progress(project):
    """[(tier title, {status: count})] of an on_delivery campaign, in the tiers' order; pledges
    with no tier under None."""
    rows = db.session.execute(
        select(PledgeDelivery.tier_id, PledgeDelivery.status, func.count())
        .where(PledgeDelivery.project_id == project.id)
        .group_by(PledgeDelivery.tier_id, PledgeDelivery.status)
    ).all()
    counts = {}
    for tier_id, status, count in rows:
        counts.setdefault(tier_id, {})[status] = count
    titles = {t.id: t.title for t in project.tiers}
    ordered = [t.id for t in project.tiers if t.id in counts] + ([None] if None in counts else [])
    return [(titles.get(tier_id), _summary(counts[tier_id])) for tier_id in ordered]


def _summary(by_status):
    return {
        "pledges": sum(by_status.values()),
        "shipped": sum(by_status.get(s, 0) for s in (DS.SHIPPED.value, DS.PROBLEM.value))
        + by_status.get(DS.RELEASED.value, 0),
        "confirmed": by_status.get(DS.RELEASED.value, 0),
        "problems": by_status.get(DS.PROBLEM.value, 0),
        "refunded": by_status.get(DS.REFUNDED.value, 0) + by_status.get(DS.REFUNDING.value, 0),
        "waiting": by_status.get(DS.AWAITING_SHIPMENT.value, 0),
    }


@dataclass(frozen=True)
class ShippingLine:
    pledge_id: int
    backer_name: str
    tier_title: str | None
    quantity: int
    address: dict | None
    status: str
    carrier: str | None
    tracking: str | None


def shipping_list(project):
    """Every delivery of the campaign, for the founder's shipping page (waiting ones first)."""
    rows = db.session.execute(
        select(PledgeDelivery, Pledge, User.name, RewardTier.title, Shipment)
        .join(Pledge, Pledge.id == PledgeDelivery.pledge_id)
        .join(User, User.id == Pledge.backer_id)
        .outerjoin(RewardTier, RewardTier.id == PledgeDelivery.tier_id)
        .outerjoin(Shipment, Shipment.id == PledgeDelivery.shipment_id)
        .where(PledgeDelivery.project_id == project.id)
        .order_by((PledgeDelivery.status != DS.AWAITING_SHIPMENT.value), PledgeDelivery.pledge_id)
    ).all()
    return [
        ShippingLine(
            p.id,
            name,
            title,
            p.quantity,
            p.shipping_address,
            d.status,
            s.carrier if s else None,
            s.tracking if s else None,
        )
        for d, p, name, title, s in rows
    ]


def firm_performance(firm):
    """{"on_time", "late", "refunded"}: the firm's rewards of on_delivery campaigns. Late: shipped
    after, or still unshipped at, DELIVERY_GRACE_DAYS past the tier's estimated month."""
    grace = current_app.config["DELIVERY_GRACE_DAYS"]
    rows = db.session.execute(
        select(
            PledgeDelivery.status, PledgeDelivery.due_month, PledgeDelivery.shipped_at, PledgeDelivery.late_flagged_at
        )
        .join(Project, Project.id == PledgeDelivery.project_id)
        .where(Project.firm_id == firm.id)
    ).all()
    result = {"on_time": 0, "late": 0, "refunded": 0}
    for status, due_month, shipped_at, flagged in rows:
        if status in (DS.REFUNDED.value, DS.REFUNDING.value):
            result["refunded"] += 1
            continue
        deadline = late_after(due_month, grace)
        if flagged is not None or (shipped_at is not None and deadline is not None and shipped_at > deadline):
            result["late"] += 1
        elif shipped_at is not None or status == DS.RELEASED.value:
            result["on_time"] += 1
    return result


# -- the admin's queue --------------------------------------------------------------------------
def problems():
    """Deliveries a backer reported a problem with, oldest first: (delivery, project title)."""
    return db.session.execute(
        select(PledgeDelivery, Project.title)
        .join(Project, Project.id == PledgeDelivery.project_id)
        .where(PledgeDelivery.status == DS.PROBLEM.value)
        .order_by(PledgeDelivery.problem_at, PledgeDelivery.id)
    ).all()


def late_campaigns():
    """[(project, unshipped late rewards)] that an admin may refund."""
    rows = db.session.execute(
        select(Project, func.count())
        .join(PledgeDelivery, PledgeDelivery.project_id == Project.id)
        .where(PledgeDelivery.status == DS.AWAITING_SHIPMENT.value, PledgeDelivery.late_flagged_at.is_not(None))
        .group_by(Project.id)
        .order_by(Project.id)
    ).all()
    return [(project, int(count)) for project, count in rows]


def parked_refunds():
    return db.session.scalars(
        select(PledgeDelivery)
        .where(PledgeDelivery.status == DS.REFUNDING.value, PledgeDelivery.parked.is_(True))
        .order_by(PledgeDelivery.id)
    ).all()


def payouts_needing_attention():
    return db.session.scalars(
        select(DeliveryPayout).where(DeliveryPayout.status == "needs_attention").order_by(DeliveryPayout.id)
    ).all()
