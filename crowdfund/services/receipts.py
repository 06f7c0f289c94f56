"""What a backer sees of pledges: the backing page, receipts, their list. Reads only."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from ..domain import rulebooks
from ..domain.clock import utcnow
from ..domain.fx import UnknownRate
from ..errors import NotFound
from ..extensions import db
from ..models import EquityOffering, Pledge, Project, RewardTier
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectKind, ProjectStatus
from . import investors
from .discovery import LONG_TEXTS
from .pledge_pricing import is_open

# What a person is told when the payment is refused (the processor's own words are kept on the pledge).
DECLINE_MESSAGES = {
    "card_declined": _l("Your card was declined."),
    "insufficient_funds": _l("Your card has insufficient funds."),
    "expired_card": _l("Your card has expired."),
    "authentication_required": _l("Your bank asks you to confirm this payment; please use another card."),
    "authentication_failed": _l("Your bank could not confirm this payment, so nothing was taken."),
    "payment_failed": _l("The payment did not go through, so nothing was taken."),
    "canceled": _l("The payment was not completed in time, so nothing was taken."),
    "action_expired": _l("The payment was not completed in time, so nothing was taken."),
}
# Statuses a campaign page is public in (before approval a project is nobody's business).
PUBLIC_STATUSES = {
    ProjectStatus.LIVE.value,
    ProjectStatus.SUCCESSFUL.value,
    ProjectStatus.FAILED.value,
    ProjectStatus.CANCELLED.value,
    ProjectStatus.SUSPENDED.value,
}
# The backing form and its POST, built once (building a statement per call costs CPU).
_PROJECT_BY_SLUG = select(Project).where(Project.slug == bindparam("slug")).options(*LONG_TEXTS)
_PROJECT_WITH_TERMS = _PROJECT_BY_SLUG.options(
    selectinload(Project.tiers), joinedload(Project.equity), joinedload(Project.firm)
)


def cancel_deadline(project):
    """When cancelling stops for this project (None: the deadline itself)."""
    if project.kind == ProjectKind.EQUITY.value and project.deadline is not None:
        return project.deadline - timedelta(seconds=current_app.config["EQUITY_CANCEL_CUTOFF"])
    return None


def reflection_ends(pledge, project):
    """Until when this equity commitment may be revoked whatever the cut-off (the rulebook's
    reflection period; never past the deadline), or None when the rulebook has none."""
    if pledge.shares is None or project.deadline is None or pledge.created_at is None:
        return None
    seconds = rulebooks.from_config(current_app.config).reflection_period
    if not seconds:
        return None
    return min(pledge.created_at + timedelta(seconds=seconds), project.deadline)


def commitment_cancel_until(pledge, project=None):
    """The last moment `pledge` may be cancelled: the project's cut-off, or later while the
    commitment's reflection period runs or it waits for reconfirmation after a material change."""
    project = project or pledge.project
    until = cancel_deadline(project) or project.deadline
    reflection = reflection_ends(pledge, project)
    if reflection is not None and until is not None:
        until = max(until, reflection)
    if pledge.reconfirm_by is not None and until is not None:  # after a material change: may decline until then
        until = max(until, pledge.reconfirm_by)
    return until


@dataclass(frozen=True)
class Receipt:
    pledge: Pledge
    project: Project
    kind: str  # reward | equity
    status: str
    amount: int
    currency: str
    tier_title: str | None
    quantity: int
    shares: int | None
    price_per_share: int | None
    reward_amount: int
    extra_amount: int
    shipping_fee: int
    shipping_address: dict | None
    escrow: str  # in_flight | awaiting_action | held | released | returned | refund_pending | not_charged | disputed
    next_action: dict | None  # while awaiting_action: {"type", "url"} of what the backer must do
    can_cancel: bool
    cancel_until: datetime | None  # the last moment a cancellation is accepted
    failure_message: str | None


def receipt(pledge, *, now=None):
    """Everything the backer's receipt shows, computed in one place."""
    now = now or utcnow()
    project = pledge.project
    equity = pledge.shares is not None
    if pledge.status == PS.PENDING.value:
        escrow = "in_flight"
    elif pledge.status == PS.REQUIRES_ACTION.value:
        escrow = "awaiting_action"
    elif pledge.status == PS.HELD.value:
        escrow = "held"
    elif pledge.status == PS.RELEASED.value:
        escrow = "released"
    elif pledge.status == PS.DISPUTED.value:
        escrow = "disputed"
    elif pledge.status in (PS.REFUNDED.value, PS.CANCELLED.value):
        escrow = "returned" if pledge.refund_ref else "refund_pending"
    else:
        escrow = "not_charged" if not pledge.refund_ref else "returned"
    until = commitment_cancel_until(pledge, project)
    can_cancel = (
        pledge.status == PS.HELD.value
        and project.status == ProjectStatus.LIVE.value
        and until is not None
        and now < until
    )
    return Receipt(
        pledge=pledge,
        project=project,
        kind="equity" if equity else "reward",
        status=pledge.status,
        amount=pledge.amount,
        currency=pledge.currency,
        tier_title=pledge.tier.title if pledge.tier else None,
        quantity=pledge.quantity,
        shares=pledge.shares,
        price_per_share=project.equity.price_per_share if equity and project.equity else None,
        reward_amount=pledge.reward_amount,
        extra_amount=pledge.extra_amount,
        shipping_fee=pledge.shipping_fee,
        shipping_address=pledge.shipping_address,
        escrow=escrow,
        can_cancel=can_cancel,
        next_action=pledge.next_action if escrow == "awaiting_action" else None,
        cancel_until=until if pledge.status == PS.HELD.value else None,
        failure_message=pledge.failure_message,
    )


def get_pledge_for(user, pledge_id):
    """The pledge, if `user` is its backer or an admin; NotFound otherwise (no hint it exists)."""
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or user is None or not (pledge.backer_id == user.id or getattr(user, "is_admin", False)):
        raise NotFound(_("There is no such pledge."))
    return pledge


def pledges_of(user):
    """The user's pledges, newest first, with their receipts."""
    rows = db.session.scalars(
        select(Pledge).where(Pledge.backer_id == user.id).order_by(Pledge.created_at.desc(), Pledge.id.desc())
    ).all()
    now = utcnow()
    return [receipt(p, now=now) for p in rows]


# -- the backing page --------------------------------------------------------------------------


def project_for_backing(slug, *, with_terms=False):
    """The public campaign with this slug (NotFound for unknown or not-yet-public ones).

    `with_terms` loads its tiers, equity terms and firm with it (for showing the form). The
    long texts (description, risks...) are left unloaded: backing shows none of them."""
    project = db.session.scalar(_PROJECT_WITH_TERMS if with_terms else _PROJECT_BY_SLUG, {"slug": slug})
    if project is None or project.status not in PUBLIC_STATUSES:
        raise NotFound(_("There is no such campaign."))
    return project


@dataclass(frozen=True)
class TierOption:
    tier: RewardTier
    available: bool
    reason: str | None  # why not, when not


def tier_options(project, *, now=None):
    now = now or utcnow()
    options = []
    for tier in project.tiers:
        reason = None
        if tier.available_from is not None and now < tier.available_from:
            reason = "not_yet"
        elif tier.available_until is not None and now >= tier.available_until:
            reason = "ended"
        elif tier.remaining == 0:
            reason = "sold_out"
        options.append(TierOption(tier, reason is None, reason))
    return options


@dataclass(frozen=True)
class BackingPage:
    project: Project
    open: bool  # taking pledges right now
    tiers: list  # TierOption for reward campaigns
    ships: bool  # some tier needs a shipping address
    offering: EquityOffering | None
    profile_complete: bool
    allowance: "investors.Allowance | None"


def backing_page(project, user, *, now=None):
    """What the backing form shows for `project` (from `project_for_backing`)."""
    now = now or utcnow()
    open_now = is_open(project, now)
    offering, complete, allowance = project.equity, False, None
    if project.kind == ProjectKind.EQUITY.value:
        profile = investors.get_profile(user)
        complete = investors.is_complete(profile)
        if complete:  # the limit holds across currencies: shown in the offering's
            try:
                allowance = investors.allowance(user, profile, project.currency, now=now)
            except UnknownRate:  # no reference rate: the form says nothing of the limit; pledging refuses
                allowance = None
    options = tier_options(project, now=now) if project.kind == ProjectKind.REWARD.value else []
    return BackingPage(
        project=project,
        open=open_now,
        tiers=options,
        ships=any(o.tier.shipping != "none" for o in options),
        offering=offering,
        profile_complete=complete,
        allowance=allowance,
    )
