"""A backer changes a held reward pledge while the campaign is live. Commits its own steps.

Transactions (as in checkout.py, no transaction is ever open across a processor call)
---------------------------------------------------------------------------------------
1. One transaction, committed (`pledge_changes.prepare`): lock the pledge (it must be held,
   the backer's, the campaign open), price the new terms on the server, take only the units
   they add with the tiers' guarded UPDATE (no room: 409 `sold_out`, rolled back, the pledge
   as it was), and record a `pledge_changes` row. A change to the same amount or a smaller
   one is applied in this same transaction, books first (as a cancellation is): totals and
   escrow by the difference, units the old terms no longer need given back.
2. No transaction: the processor.
   - smaller: refund the difference on the pledge's charge (key `pledge-<id>-change-<n>-refund`);
   - larger: charge the new total (key `pledge-<id>-change-<n>`), because a card payment
     cannot grow; then step 3, then refund the old charge in full (same refund key), so the
     backer's money moves by the difference, and the pledge again has one charge holding
     exactly its amount (what settlement, cancellation and disputes rely on).
3. (Larger only) one transaction, committed: lock the pledge and the change and apply the new
   terms (`pledge_changes.apply`, guarded by the campaign still being live and the pledge held);
   if it closed or was cancelled meanwhile, the new charge is refunded and the added units go
   back instead. A decline gives the units back and fails the change (402); the pledge stays.

Lock order: pledge row -> project row -> tier row -> add-on rows (id order), as checkout's step 3.
A crash anywhere leaves a change `pending` or `refund_pending`; `resume_changes` (run by
`flask pledges reconcile`) sends the same call again under the same key and finishes it.
"""

import logging
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from ..domain.clock import utcnow
from ..errors import Conflict, DomainError, PaymentDeclined
from ..extensions import db
from ..models import Pledge, PledgeChange, PledgeChangeStatus as CS
from ..payments import GatewayError, TransientGatewayError, get_gateway
from ..services import pledge_changes, pledges
from ..services.receipts import DECLINE_MESSAGES

log = logging.getLogger(__name__)


def charge_key(pledge_id, number):
    return f"pledge-{pledge_id}-change-{number}"


def refund_key(pledge_id, number):
    return f"pledge-{pledge_id}-change-{number}-refund"


def change_pledge(user, pledge_id, data, *, payment_method=None, now=None):
    """Change `user`'s held pledge to the terms in `data`; returns the pledge as it now is.

    Raises a DomainError with the pledge as it was: 409 `sold_out` (no room in the new tier
    or add-on), 422 naming the field (pricing, shipping), 402 on a declined card."""
    now = now or utcnow()
    try:
        change = pledge_changes.prepare(user, pledge_id, data, now=now, payment_method=payment_method)
        change_id, status = change.id, change.status
        db.session.commit()  # step 1
    except DomainError:
        db.session.rollback()
        raise
    if status == CS.REFUND_PENDING.value:
        _refund(change_id)
    elif status == CS.PENDING.value:
        _charge_and_apply(change_id, now=now)
    return db.session.get(Pledge, pledge_id, populate_existing=True)


def _charge_and_apply(change_id, *, now, raise_decline=True):
    change = db.session.get(PledgeChange, change_id)
    pledge = db.session.get(Pledge, change.pledge_id)
    pledge_id, project_id, currency = pledge.id, pledge.project_id, pledge.currency
    amount, number, method = change.amount_after, change.number, change.payment_method
    db.session.commit()
    try:
        result = get_gateway().charge(
            amount=amount,
            currency=currency,
            payment_method=method,
            idempotency_key=charge_key(pledge_id, number),
            transfer_group=f"project-{project_id}",
            description=f"Pledge {pledge_id} to project {project_id}, change {number}",
            metadata={"pledge_id": pledge_id, "project_id": project_id, "change": number},
            return_url=None,
        )
    except TransientGatewayError as error:
        log.warning("pledge %s change %s: charge not confirmed (%s); left for resume", pledge_id, number, error)
        raise Conflict(
            _("The payment processor did not answer. Your change will be finished shortly; try again later."),
            code="change_pending",
        ) from error
    except GatewayError as error:
        _give_up(change_id, project_id, code=error.code or "payment_error", now=now)
        if raise_decline:
            message = _("The payment could not be made. Please try another card.")
            raise PaymentDeclined(
                message, code=error.code or "payment_error", fields={"payment_method": message}
            ) from error
        return
    if result.requires_action or result.processing:
        # A change is paid on the spot: no bank page to come back from. Abandon the payment.
        try:
            get_gateway().cancel(result.ref, idempotency_key=f"{charge_key(pledge_id, number)}-cancel")
        except GatewayError:  # pragma: no cover - an unconfirmed cancel is looked at again by resume
            log.warning("pledge %s change %s: cancel not confirmed", pledge_id, number)
        _give_up(change_id, project_id, code="authentication_required", now=now)
        if raise_decline:
            message = _("This card asks you to confirm the payment with your bank. Please choose another card.")
            raise PaymentDeclined(message, code="authentication_required", fields={"payment_method": message})
        return
    if not result.ok:
        code = result.decline_code or "card_declined"
        _give_up(change_id, project_id, code=code, now=now)
        if raise_decline:
            shown = str(DECLINE_MESSAGES[code]) if code in DECLINE_MESSAGES else (result.message or code)
            raise PaymentDeclined(shown, code=code, fields={"payment_method": shown})
        return
    _apply_paid(change_id, result, now=utcnow())


def _apply_paid(change_id, result, *, now):
    """Step 3: the new total is paid; the new terms apply (or the new charge goes back)."""
    change = db.session.get(PledgeChange, change_id)
    pledge = pledges.lock(change.pledge_id)
    change = pledge_changes.lock_change(change_id)
    if change.status != CS.PENDING.value:  # finished by another run
        db.session.commit()
        return
    change.charge_ref = result.ref
    project_id = pledge.project_id
    try:
        with db.session.begin_nested():
            pledge_changes.apply(change, pledge, now=now, processor_fee=result.fee)
    except Conflict:  # closed or no longer held meanwhile: the new charge goes back
        db.session.rollback()
        _refund_new_charge(change_id, result, project_id, now=now)
        raise
    db.session.commit()
    _refund(change_id)


def _refund_new_charge(change_id, result, project_id, *, now):
    change = db.session.get(PledgeChange, change_id)
    pledge_id, number, amount = change.pledge_id, change.number, change.amount_after
    currency = db.session.get(Pledge, pledge_id).currency
    db.session.commit()
    movement = get_gateway().refund(
        charge_ref=result.ref, amount=amount, currency=currency, idempotency_key=refund_key(pledge_id, number)
    )
    pledges.lock(pledge_id)
    change = pledge_changes.lock_change(change_id)
    if change.status == CS.PENDING.value:
        change.charge_ref, change.refund_ref = result.ref, movement.ref
        pledge_changes.book_change_fee(change, currency, result.fee)
        pledge_changes.give_back_reserved(change, project_id, code="project_not_live", now=now)
    db.session.commit()


def _give_up(change_id, project_id, *, code, now):
    change = db.session.get(PledgeChange, change_id)
    pledges.lock(change.pledge_id)
    change = pledge_changes.lock_change(change_id)
    if change.status == CS.PENDING.value:
        pledge_changes.give_back_reserved(change, project_id, code=code, now=now)
    db.session.commit()


def _refund(change_id):
    """The money the change gave back: the difference (smaller), or the old charge (larger)."""
    change = db.session.get(PledgeChange, change_id)
    pledge = db.session.get(Pledge, change.pledge_id)
    upgrade = change.charge_ref is not None
    amount = change.amount_before if upgrade else change.amount_before - change.amount_after
    ref, currency, pledge_id, number = change.old_charge_ref, pledge.currency, pledge.id, change.number
    db.session.commit()
    if amount <= 0 or ref is None:
        return _finish(change_id, None)
    try:
        movement = get_gateway().refund(
            charge_ref=ref, amount=amount, currency=currency, idempotency_key=refund_key(pledge_id, number)
        )
    except GatewayError as error:
        log.warning("pledge %s change %s: refund not confirmed (%s); left for resume", pledge_id, number, error)
        return False
    return _finish(change_id, movement.ref)


def _finish(change_id, refund_ref):
    change = pledge_changes.lock_change(change_id)
    if change.status == CS.REFUND_PENDING.value:
        change.refund_ref = refund_ref
        change.status = CS.DONE.value
        change.ended_at = utcnow()
    db.session.commit()
    return True


def _look_up(change_id, *, now):
    change = db.session.get(PledgeChange, change_id)
    pledge = db.session.get(Pledge, change.pledge_id)
    key, project_id = charge_key(pledge.id, change.number), pledge.project_id
    db.session.commit()
    found = get_gateway().find_charge(key)
    if found is not None and found.ok:
        _apply_paid(change_id, found, now=now)
    elif found is None or not (found.requires_action or found.processing):
        _give_up(change_id, project_id, code="abandoned", now=now)  # never paid: the units go back


def resume_changes(older_than=60, *, now=None):
    """Finish changes a crash or a silent processor left open; safe to repeat. Returns how many."""
    now = now or utcnow()
    window = timedelta(seconds=current_app.config["PROCESSOR_IDEMPOTENCY_WINDOW"])
    rows = db.session.execute(
        db.select(PledgeChange.id, PledgeChange.status, PledgeChange.created_at).where(
            PledgeChange.status.in_((CS.PENDING.value, CS.REFUND_PENDING.value)),
            PledgeChange.created_at <= now - timedelta(seconds=older_than),
        )
    ).all()
    db.session.commit()
    for change_id, status, created_at in rows:
        try:
            if status == CS.REFUND_PENDING.value:
                _refund(change_id)
            elif created_at > now - window:  # the same key again: the first charge's answer, never a second
                _charge_and_apply(change_id, now=utcnow(), raise_decline=False)
            else:  # the processor may have forgotten the key: only look the payment up
                _look_up(change_id, now=utcnow())
        except (DomainError, GatewayError) as error:
            db.session.rollback()
            log.warning("pledge change %s: not finished yet (%s)", change_id, error)
    return len(rows)
