"""Release on delivery: what happens to a released pledge's held remainder (flush only).

An `on_delivery` campaign's settlement (workflows/settlement_release.py) keeps back part of
each pledge's net (`hold_back`) in the campaign's `held_for_delivery` account and writes a
`PledgeDelivery` per pledge (`open_deliveries`), `awaiting_shipment`. Then:

- the founder records a shipment (services/shipments.py): `shipped`, with `confirm_by`;
- the backer confirms receipt (`confirm_receipt`), or DELIVERY_CONFIRM_DAYS pass in silence
  (`release_timed_out`, the delivery sweep): the remainder goes to the firm's payable account
  (`released`), and the daily delivery payout sends it (workflows/delivery_release.py);
- the backer reports a problem (`report_problem`): `problem`, held for an admin, who
  releases it (`admin_release`) or refunds it (`admin_refund`: `refunding`, then the refund
  workflow sends it back through the processor and books it, `refunded`);
- a reward still unshipped DELIVERY_GRACE_DAYS after its tier's estimated month is flagged
  (`flag_late`), and the admin may refund every unshipped pledge of the campaign
  (`admin_refund_unshipped`).

Every status change goes through services/transitions.py; every movement of money through
the ledger, with ids that make a replay write nothing twice.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import insert, select

from .. import after_commit, ledger
from ..domain.clock import utcnow
from ..domain.release_models import holds_for_delivery, late_after, split_net
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..models import Pledge, PledgeDelivery, Project
from ..models.delivery import DeliveryStatus as DS
from . import delivery_notices, transitions, use_case

REASON_MAX = 1000
REFUND_SWEEP = "refund_deliveries"  # the job that sends refunds an admin asked for (crowdfund/jobs)


# -- at success (called by the settlement's release batch, inside its transaction) --------------
def hold_back(project, net):
    """(paid now, held for delivery) of a pledge's `net`: all of it now unless on_delivery."""
    if not holds_for_delivery(project):
        return net, 0
    return split_net(net, current_app.config["RELEASE_AT_SUCCESS_BPS"])


def hold_transfer(project, pledge, held, settlement_id):
    """The ledger transfer that keeps `held` of `pledge` back in held_for_delivery."""
    return ledger.Transfer(
        ledger.delivery_hold_id(pledge.id),
        ledger.escrow_key(project.id),
        ledger.held_for_delivery_key(project.id),
        held,
        pledge.currency,
        ledger.DELIVERY_HOLD,
        pledge.id,
        settlement_id,
    )


def open_deliveries(project, pledges, held_by_pledge):
    """A delivery row per pledge just released (the batch's UPDATE guarded their status, so
    each pledge is released, and gets its row, once)."""
    if not holds_for_delivery(project) or not pledges:
        return
    months = {tier.id: tier.estimated_delivery for tier in project.tiers}
    now = utcnow()
    db.session.execute(
        insert(PledgeDelivery),
        [
            {
                "pledge_id": p.id,
                "project_id": project.id,
                "tier_id": p.tier_id,
                "status": DS.AWAITING_SHIPMENT.value,
                "held_amount": held_by_pledge.get(p.id, 0),
                "currency": p.currency,
                "due_month": months.get(p.tier_id),
                "refund_attempts": 0,
                "parked": False,
                "created_at": now,
            }
            for p in pledges
        ],
    )


# -- reading ------------------------------------------------------------------------------------
def delivery_of(pledge_id, *, lock=False):
    query = select(PledgeDelivery).where(PledgeDelivery.pledge_id == pledge_id)
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def _backers_delivery(user, pledge_id):
    pledge = db.session.get(Pledge, pledge_id) if type(pledge_id) is int else None
    if pledge is None or user is None or pledge.backer_id != user.id:
        raise NotFound(_("There is no such pledge."))
    delivery = delivery_of(pledge.id, lock=True)
    if delivery is None:
        raise Conflict(
            _("This pledge's money is not held for delivery, so there is nothing to confirm or report."),
            code="not_held_for_delivery",
        )
    return pledge, delivery


# -- the backer ---------------------------------------------------------------------------------
@use_case
def confirm_receipt(user, pledge_id):
    """The backer has their reward: its held remainder goes to the firm. Again: harmless."""
    pledge, delivery = _backers_delivery(user, pledge_id)
    if delivery.status == DS.RELEASED.value:
        return delivery
    _not_disputed(delivery)
    if delivery.status not in (DS.AWAITING_SHIPMENT.value, DS.SHIPPED.value, DS.PROBLEM.value):
        raise Conflict(_("This pledge's held money has been refunded already."), code="delivery_refunded")
    release(delivery, how="confirmed", actor=user, note="The backer confirmed receipt.")
    return delivery


@use_case
def report_problem(user, pledge_id, reason):
    """The reward did not arrive, or arrived wrong: the remainder waits for an admin."""
    reason = " ".join((reason or "").split()) if isinstance(reason, str) else ""
    if not reason:
        message = _("Say what is wrong with the reward.")
        raise ValidationError(message, fields={"reason": message})
    if len(reason) > REASON_MAX:
        message = _("Write at most %(num)d characters.", num=REASON_MAX)
        raise ValidationError(message, fields={"reason": message})
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in reason):
        message = _("Remove the control characters (such as escapes) from this text; tabs and line breaks are fine.")
        raise ValidationError(message, fields={"reason": message})
    pledge, delivery = _backers_delivery(user, pledge_id)
    if delivery.status == DS.PROBLEM.value:
        return delivery
    _not_disputed(delivery)
    if delivery.status not in (DS.AWAITING_SHIPMENT.value, DS.SHIPPED.value):
        raise Conflict(_("This pledge's held money has been released or refunded already."), code="delivery_settled")
    transitions.transition(delivery, DS.PROBLEM.value, actor=user, note=reason[:200])
    delivery.problem_reason, delivery.problem_at = reason, utcnow()
    db.session.flush()
    delivery_notices.problem_reported(delivery, pledge)
    return delivery


def _not_disputed(delivery):
    if delivery.status == DS.DISPUTED.value:
        raise Conflict(_("This pledge's payment is disputed, so its held money stays held."), code="disputed")


# -- money out of held_for_delivery -------------------------------------------------------------
def release(delivery, *, how, actor=None, note=""):
    """The held remainder to the firm's payable account (the daily delivery payout sends it)."""
    if db.session.scalar(select(Pledge.status).where(Pledge.id == delivery.pledge_id)) != "released":
        # A disputed charge: the card network decides first (and its money is no longer ours to release).
        raise Conflict(_("This pledge's payment is disputed, so its held money stays held."), code="disputed")
    project = db.session.get(Project, delivery.project_id)
    if delivery.held_amount:
        settlement_id = project_settlement_id(project.id)
        ledger.transfer(
            ledger.delivery_release_id(delivery.pledge_id),
            ledger.held_for_delivery_key(project.id),
            ledger.firm_payable_key(project.firm_id, project.currency),
            delivery.held_amount,
            delivery.currency,
            ledger.DELIVERY_RELEASE,
            pledge_id=delivery.pledge_id,
            settlement_id=settlement_id,
        )
    transitions.transition(delivery, DS.RELEASED.value, actor=actor, note=note)
    delivery.released_how, delivery.ended_at = how, utcnow()
    delivery.refund_after = None
    db.session.flush()
    return delivery


def project_settlement_id(project_id):
    from ..models import Settlement

    return db.session.scalar(select(Settlement.id).where(Settlement.project_id == project_id))


def release_timed_out(now=None, limit=500):
    """Shipments neither confirmed nor reported within DELIVERY_CONFIRM_DAYS count as confirmed.
    Releases up to `limit` of them; returns how many (the caller commits)."""
    now = now or utcnow()
    due = db.session.scalars(
        select(PledgeDelivery)
        .join(Pledge, Pledge.id == PledgeDelivery.pledge_id)
        .where(
            PledgeDelivery.status == DS.SHIPPED.value,
            PledgeDelivery.confirm_by <= now,
            Pledge.status == "released",  # a disputed one waits for the card network
        )
        .order_by(PledgeDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=PledgeDelivery)
    ).all()
    for delivery in due:
        release(delivery, how="timed_out", note="Not confirmed nor reported in time: counts as received.")
    return len(due)


# -- late rewards -------------------------------------------------------------------------------
def flag_late(now=None):
    """Flag unshipped rewards DELIVERY_GRACE_DAYS past their month; mail backers and admins once.
    Returns how many it flagged (the caller commits)."""
    now = now or utcnow()
    grace = current_app.config["DELIVERY_GRACE_DAYS"]
    waiting = db.session.scalars(
        select(PledgeDelivery)
        .where(
            PledgeDelivery.status == DS.AWAITING_SHIPMENT.value,
            PledgeDelivery.late_flagged_at.is_(None),
            PledgeDelivery.due_month.is_not(None),
            PledgeDelivery.due_month < now.strftime("%Y-%m"),  # "YYYY-MM" sorts as months do
        )
        .order_by(PledgeDelivery.project_id, PledgeDelivery.id)
    ).all()
    late = [d for d in waiting if (late_after(d.due_month, grace) or now) < now]
    by_project = {}
    for delivery in late:
        delivery.late_flagged_at = now
        by_project.setdefault(delivery.project_id, []).append(delivery)
    db.session.flush()
    for project_id, deliveries in by_project.items():
        delivery_notices.rewards_late(db.session.get(Project, project_id), deliveries)
    return len(late)


# -- the admin ----------------------------------------------------------------------------------
def _problem(pledge_id):
    delivery = delivery_of(pledge_id, lock=True) if type(pledge_id) is int else None
    if delivery is None or delivery.status != DS.PROBLEM.value:
        raise Conflict(_("That pledge has no reported problem waiting for an admin."), code="no_problem_waiting")
    return delivery


@use_case
def admin_release(admin, pledge_id):
    """The problem is resolved in the firm's favour: release the remainder."""
    return release(_problem(pledge_id), how="admin", actor=admin, note="An admin released it after a problem.")


@use_case
def admin_refund(admin, pledge_id):
    """The problem is resolved in the backer's favour: refund the remainder (after the commit)."""
    delivery = _problem(pledge_id)
    _start_refund(delivery, admin, "An admin refunds it after a problem.")
    return delivery


@use_case
def admin_refund_unshipped(admin, project_id):
    """Refund the held remainder of every pledge of a late campaign that was never shipped."""
    deliveries = db.session.scalars(
        select(PledgeDelivery)
        .where(
            PledgeDelivery.project_id == project_id,
            PledgeDelivery.status == DS.AWAITING_SHIPMENT.value,
            PledgeDelivery.late_flagged_at.is_not(None),
        )
        .order_by(PledgeDelivery.id)
        .with_for_update()
    ).all()
    if not deliveries:
        raise Conflict(_("That campaign has no late, unshipped rewards to refund."), code="nothing_late")
    for delivery in deliveries:
        _start_refund(delivery, admin, "Not shipped in time: an admin refunds it.")
    return len(deliveries)


@use_case
def retry_parked_refund(admin, pledge_id):
    delivery = delivery_of(pledge_id, lock=True) if type(pledge_id) is int else None
    if delivery is None or delivery.status != DS.REFUNDING.value or not delivery.parked:
        raise Conflict(_("That refund is not waiting for an admin."), code="not_parked")
    delivery.parked, delivery.refund_attempts, delivery.refund_after, delivery.refund_error = False, 0, None, None
    after_commit.start_sweep(REFUND_SWEEP)
    db.session.flush()
    return delivery


def _start_refund(delivery, admin, note):
    transitions.transition(delivery, DS.REFUNDING.value, actor=admin, note=note)
    delivery.refund_after, delivery.parked, delivery.refund_attempts = None, False, 0
    after_commit.start_sweep(REFUND_SWEEP)
    db.session.flush()


def confirm_deadline(shipped_at):
    return shipped_at + timedelta(days=current_app.config["DELIVERY_CONFIRM_DAYS"])
