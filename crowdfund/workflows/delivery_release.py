"""Release on delivery, the background part: the delivery sweep (scheduler, Celery beat's
`sweep_deliveries`, `flask deliveries sweep`), resumable and idempotent like settlement.

`sweep(now)` does, each step committed on its own:

1. **timeouts**: shipments neither confirmed nor reported within DELIVERY_CONFIRM_DAYS count
   as confirmed (services/deliveries.release_timed_out: ledger `pledge:<id>:delivery_release`);
2. **late rewards**: unshipped DELIVERY_GRACE_DAYS after their tier's month, flagged and mailed
   (services/deliveries.flag_late);
3. **refunds** an admin asked for (`refunding`), like settlement refunds: a batch is claimed
   (lease in `refund_after`, committed), refunded through the gateway with no transaction open
   (key `pledge-<id>-delivery-refund`, for the held remainder only), then booked (ledger
   `pledge:<id>:delivery_refund` held_for_delivery -> clearing, `refunded`, the backer's mail).
   A transient error backs off; after SETTLEMENT_MAX_ATTEMPTS, or at once for a permanent one,
   the refund is parked for an admin;
4. **payouts**: once a day per campaign (and never before its settlement's own payout is due),
   the remainders released since the last batch are paid to the firm in one payout: the batch
   (`delivery_payouts`, its deliveries marked) is written and committed first, then paid under
   the key `delivery-payout-<id>`, then booked (ledger `delivery_payout:<id>`, firm_payable ->
   clearing, code `payout`, the settlement's id, so the statement counts it as paid out).

Killed anywhere, it simply runs again: a claim expires, a refund or payout replayed with its
key returns the first answer, ledger ids make every booking happen once, and every status
change is guarded by the status it expects.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from .. import after_commit, ledger
from ..domain.clock import utcnow
from ..extensions import db
from ..models import DeliveryPayout, PledgeDelivery, Project, Settlement
from ..models.delivery import DeliveryStatus as DS
from ..payments import GatewayError, RefundRequest, get_gateway
from ..services import deliveries, delivery_notices, payout_accounts, transitions
from . import dispute_events
from .payouts import backoff

log = logging.getLogger(__name__)

BATCH = 200
PAYOUT_EVERY = timedelta(days=1)


def _config(key):
    return current_app.config[key]


def refund_key(pledge_id):
    return f"pledge-{pledge_id}-delivery-refund"


def payout_key(batch_id, refusals=0):
    key = f"delivery-payout-{batch_id}"
    return f"{key}-{refusals + 1}" if refusals else key


def sweep(now=None):
    """Every step above, as far as it can go now. Returns what each did."""
    done = {"timed_out": 0, "late": 0, "refunded": 0, "paid_out": 0}
    while True:
        released = deliveries.release_timed_out(now, limit=BATCH)
        db.session.commit()
        done["timed_out"] += released
        if released < BATCH:
            break
    done["late"] = deliveries.flag_late(now)
    db.session.commit()
    after_commit.run_mail()
    done["refunded"] = refund_waiting(now)
    done["paid_out"] = pay_out_released(now)
    return done


# -- refunds ------------------------------------------------------------------------------------
def refund_waiting(now=None):
    """Send every refund an admin asked for that is due. Returns how many were booked."""
    booked = 0
    while True:
        claimed = _claim(now or utcnow())
        if not claimed:
            return booked
        booked += _refund(claimed)


def _claim(now):
    query = (
        select(PledgeDelivery.id)
        .where(
            PledgeDelivery.status == DS.REFUNDING.value,
            PledgeDelivery.parked.is_(False),
            (PledgeDelivery.refund_after.is_(None)) | (PledgeDelivery.refund_after <= now),
        )
        .order_by(PledgeDelivery.id)
        .limit(BATCH)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = db.session.scalars(query).all()
    if ids:
        lease = now + timedelta(seconds=_config("SETTLEMENT_CLAIM_SECONDS"))
        db.session.execute(update(PledgeDelivery).where(PledgeDelivery.id.in_(ids)).values(refund_after=lease))
    claimed = db.session.scalars(select(PledgeDelivery).where(PledgeDelivery.id.in_(ids)).order_by(PledgeDelivery.id))
    rows = [(d.id, d.pledge_id, d.pledge.charge_ref, d.held_amount, d.currency) for d in claimed]
    db.session.commit()
    return rows


def _refund(claimed):
    to_send = [row for row in claimed if row[3] > 0]
    # No transaction is open while the gateway works.
    results = get_gateway().refund_many(
        [
            RefundRequest(charge_ref=ref, amount=amount, currency=currency, idempotency_key=refund_key(pledge_id))
            for _id, pledge_id, ref, amount, currency in to_send
        ]
    )
    answers = {row[0]: result for row, result in zip(to_send, results, strict=True)}
    booked = 0
    for delivery_id, *_rest in claimed:
        answer = answers.get(delivery_id)
        delivery = db.session.get(PledgeDelivery, delivery_id, with_for_update=True)
        if delivery.status != DS.REFUNDING.value:  # booked by another run meanwhile
            continue
        if isinstance(answer, Exception):
            _failed(delivery, answer)
            continue
        _book_refund(delivery, getattr(answer, "ref", None))
        booked += 1
    db.session.commit()
    after_commit.run_mail()
    return booked


def _book_refund(delivery, ref):
    if delivery.held_amount:
        ledger.transfer(
            ledger.delivery_refund_id(delivery.pledge_id),
            ledger.held_for_delivery_key(delivery.project_id),
            ledger.clearing_key(delivery.currency),
            delivery.held_amount,
            delivery.currency,
            ledger.DELIVERY_REFUND,
            pledge_id=delivery.pledge_id,
            settlement_id=deliveries.project_settlement_id(delivery.project_id),
        )
    transitions.transition(delivery, DS.REFUNDED.value, note="Held remainder refunded to the backer.")
    delivery.refund_ref, delivery.ended_at = ref, utcnow()
    delivery.refund_after, delivery.refund_error = None, None
    db.session.flush()
    delivery_notices.delivery_refunded(delivery)


def _failed(delivery, error):
    delivery.refund_attempts += 1
    parked = not getattr(error, "transient", False) or delivery.refund_attempts >= _config("SETTLEMENT_MAX_ATTEMPTS")
    delivery.parked = parked
    delivery.refund_error = f"{getattr(error, 'code', None) or type(error).__name__}: {error}"
    delivery.refund_after = None if parked else utcnow() + timedelta(seconds=backoff(delivery.refund_attempts))
    log.warning("delivery refund of pledge %s failed%s: %s", delivery.pledge_id, ", parked" if parked else "", error)


# -- payouts ------------------------------------------------------------------------------------
def pay_out_released(now=None):
    """Batch and pay the released remainders of every campaign whose turn it is. Returns how
    many payouts went out."""
    now = now or utcnow()
    for project_id in _projects_due(now):
        _new_batch(project_id, now)
    sent = 0
    pending = db.session.scalars(
        select(DeliveryPayout.id).where(DeliveryPayout.status == "pending").order_by(DeliveryPayout.id)
    ).all()
    db.session.commit()
    for batch_id in pending:
        sent += _send(batch_id)
    return sent


def _projects_due(now):
    waiting = db.session.execute(
        select(PledgeDelivery.project_id, Settlement.payout_due_at)
        .join(Settlement, Settlement.project_id == PledgeDelivery.project_id)
        .where(
            PledgeDelivery.status == DS.RELEASED.value,
            PledgeDelivery.payout_id.is_(None),
            PledgeDelivery.held_amount > 0,
        )
        .group_by(PledgeDelivery.project_id, Settlement.payout_due_at)
    ).all()
    due = []
    for project_id, payout_due_at in waiting:
        if payout_due_at is None or payout_due_at > now:
            continue  # the settlement's own payout first (PAYOUT_DELAY)
        last = db.session.scalar(
            select(func.max(DeliveryPayout.created_at)).where(DeliveryPayout.project_id == project_id)
        )
        if last is None or last + PAYOUT_EVERY <= now:
            due.append(project_id)
    db.session.commit()
    return due


def _new_batch(project_id, now):
    """Write the day's batch and mark its deliveries, in one committed transaction."""
    project = db.session.get(Project, project_id)
    rows = db.session.scalars(
        select(PledgeDelivery)
        .where(
            PledgeDelivery.project_id == project_id,
            PledgeDelivery.status == DS.RELEASED.value,
            PledgeDelivery.payout_id.is_(None),
            PledgeDelivery.held_amount > 0,
        )
        .with_for_update()
    ).all()
    if not rows:
        db.session.commit()
        return
    batch = DeliveryPayout(
        project_id=project_id,
        settlement_id=deliveries.project_settlement_id(project_id),
        amount=sum(d.held_amount for d in rows),
        currency=project.currency,
        status="pending",
        attempts=0,
        refusals=0,
        created_at=now,
    )
    db.session.add(batch)
    db.session.flush()
    for delivery in rows:
        delivery.payout_id = batch.id
    db.session.commit()


def _send(batch_id):
    batch = db.session.get(DeliveryPayout, batch_id)
    project = db.session.get(Project, batch.project_id)
    destination = payout_accounts.verified_destination(project.firm_id)
    if destination is None:  # waits for a verified account; the next sweep tries again
        db.session.commit()
        return 0
    # Read before the commit: nothing may start a transaction of ours while the processor
    # writes (on SQLite a snapshot taken before its write could not write after it).
    amount, currency, key = batch.amount, batch.currency, payout_key(batch.id, batch.refusals)
    firm_id, group = project.firm_id, f"project-{project.id}"
    gateway = get_gateway()
    db.session.commit()
    try:
        movement = gateway.payout(
            amount=amount,
            currency=currency,
            destination=destination,
            idempotency_key=key,
            transfer_group=group,
        )
    except GatewayError as error:
        batch = db.session.get(DeliveryPayout, batch_id)
        batch.attempts += 1
        batch.refusals += 0 if error.transient else 1
        batch.last_error = f"{error.code or 'error'}: {error}"
        if not error.transient or batch.attempts >= _config("SETTLEMENT_MAX_ATTEMPTS"):
            batch.status = "needs_attention"
        db.session.commit()
        log.warning("delivery payout %s failed: %s", batch_id, error)
        return 0
    _book_payout(batch_id, movement.ref, firm_id, amount, currency)
    # A dispute booked after this batch was written took its remainder from the firm's payable,
    # which this payout has now left negative: the firm's account gives it back.
    dispute_events.after_payout(db.session.get(DeliveryPayout, batch_id).settlement_id)
    return 1


def _book_payout(batch_id, ref, firm_id, amount, currency):
    batch = db.session.get(DeliveryPayout, batch_id, with_for_update=True)
    ledger.transfer(
        ledger.delivery_payout_id(batch_id),
        ledger.firm_payable_key(firm_id, currency),
        ledger.clearing_key(currency),
        amount,
        currency,
        ledger.PAYOUT,
        settlement_id=batch.settlement_id,
    )
    if batch.status != "paid":
        batch.status, batch.ref, batch.paid_at, batch.last_error = "paid", ref, utcnow(), None
    db.session.commit()
    log.info("delivery payout %s of %s %s sent (%s)", batch_id, amount, currency, ref)


def retry_payout(batch_id):
    """An admin sends a payout that needed attention back (flush only; the sweep sends it)."""
    batch = db.session.get(DeliveryPayout, batch_id)
    if batch is not None and batch.status == "needs_attention":
        batch.status, batch.attempts = "pending", 0
        db.session.flush()
    return batch
