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

A larger total the backer must confirm (3-D Secure, Alipay, WeChat Pay) goes as a new pledge's
does (checkout.py): the charge carries a `return_url` (our `/pledges/<id>/changes/<n>/return`),
and on `requires_action` the change becomes `requires_action` with the charge's reference; the
added units stay taken and the pledge stays held at its old terms. The answer comes by the
return page, the webhooks (payment_events.py) or `resume_changes`, and each of them only *retrieves*
the payment and applies it (`check_change`) under the pledge's and the change's locks:
succeeded -> step 3; failed or cancelled -> the units go back and the change fails; still
waiting -> nothing. Past PLEDGE_ACTION_TIMEOUT `resume_changes` cancels it at the processor,
gives the units back, fails the change (`action_expired`) and mails the backer.

Lock order: pledge row -> project row -> tier row -> add-on rows (id order), as checkout's step 3.
A crash anywhere leaves a change `pending` or `refund_pending`; `resume_changes` (run by
`flask pledges reconcile`) sends the same call again under the same key and finishes it.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from ..domain.clock import utcnow
from ..errors import Conflict, DomainError, PaymentDeclined
from ..extensions import db
from ..models import Pledge, PledgeChange, PledgeChangeStatus as CS
from ..payments import GatewayError, TransientGatewayError, get_gateway
from ..services import pledge_change_mail, pledge_changes, pledges
from ..services.receipts import DECLINE_MESSAGES

log = logging.getLogger(__name__)

# A change whose new total is not paid yet: being charged, or waiting for the backer.
WAITING = (CS.PENDING.value, CS.REQUIRES_ACTION.value)


@dataclass
class ChangeOutcome:
    """A change as it now is: the pledge, the change (None when none was recorded) and, while
    its payment waits for the backer, what they must do (`type`, `url`, `client_secret`)."""

    pledge: Pledge
    change: PledgeChange | None = None
    next_action: dict | None = None

    @property
    def waiting(self):
        return self.change is not None and self.change.status == CS.REQUIRES_ACTION.value


def charge_key(pledge_id, number):
    return f"pledge-{pledge_id}-change-{number}"


def refund_key(pledge_id, number):
    return f"pledge-{pledge_id}-change-{number}-refund"


def change_pledge(user, pledge_id, data, *, payment_method=None, now=None, return_url=None):
    """Change `user`'s held pledge to the terms in `data`; returns the pledge as it now is
    (`request_change` also tells whether the change waits for the backer's bank)."""
    return request_change(user, pledge_id, data, payment_method=payment_method, now=now, return_url=return_url).pledge


def request_change(user, pledge_id, data, *, payment_method=None, now=None, return_url=None):
    """Change `user`'s held pledge to the terms in `data`; returns a ChangeOutcome.

    `return_url(pledge_id, number)` gives the page the processor sends the backer back to after
    confirming a larger total with their bank or wallet; the outcome is then `waiting`, with
    its `next_action`, and the pledge is as it was until the payment succeeds.
    Raises a DomainError with the pledge as it was: 409 `sold_out` (no room in the new tier
    or add-on), 422 naming the field (pricing, shipping), 402 on a declined card."""
    now = now or utcnow()
    try:
        change = pledge_changes.prepare(user, pledge_id, data, now=now, payment_method=payment_method)
        change_id, status, number = change.id, change.status, change.number
        db.session.commit()  # step 1
    except DomainError:
        db.session.rollback()
        raise
    action = None
    if status == CS.REFUND_PENDING.value:
        _refund(change_id)
    elif status == CS.PENDING.value:
        url = return_url(pledge_id, number) if return_url else None
        action = _charge_and_apply(change_id, now=now, return_url=url)
    return _outcome(change_id, action)


def _outcome(change_id, action=None):
    change = db.session.get(PledgeChange, change_id, populate_existing=True)
    pledge = db.session.get(Pledge, change.pledge_id, populate_existing=True)
    return ChangeOutcome(pledge, change, action if change.status == CS.REQUIRES_ACTION.value else None)


def _charge_and_apply(change_id, *, now, raise_decline=True, return_url=None):
    """Steps 2 and 3 of a larger total. Returns what the backer must do when the payment
    waits for them (None otherwise)."""
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
            return_url=return_url,
        )
    except TransientGatewayError as error:
        log.warning("pledge %s change %s: charge not confirmed (%s); left for resume", pledge_id, number, error)
        raise Conflict(
            _("The payment processor did not answer. Your change will be finished shortly; try again later."),
            code="change_pending",
        ) from error
    except GatewayError as error:
        if error.code == "idempotency_conflict":
            # Resume sent the key again without the first call's return_url: the payment made
            # under the key is the answer (as checkout's `_adopt_existing`).
            found = get_gateway().find_charge(charge_key(pledge_id, number))
            if found is None:
                log.warning("pledge %s change %s: the processor cannot show its payment yet", pledge_id, number)
                return None
            return _settle(change_id, found, now=now)
        _give_up(change_id, project_id, code=error.code or "payment_error", now=now)
        if raise_decline:
            message = _("The payment could not be made. Please try another card.")
            raise PaymentDeclined(
                message, code=error.code or "payment_error", fields={"payment_method": message}
            ) from error
        return None
    if result.requires_action or result.processing:
        return _await_action(change_id, result)
    if not result.ok:
        code = result.decline_code or "card_declined"
        _give_up(change_id, project_id, code=code, now=now)
        if raise_decline:
            shown = str(DECLINE_MESSAGES[code]) if code in DECLINE_MESSAGES else (result.message or code)
            raise PaymentDeclined(shown, code=code, fields={"payment_method": shown})
        return None
    _apply_paid(change_id, result, now=utcnow())
    return None


def _await_action(change_id, result):
    """The payment waits for the backer: the change keeps its reference and waits too.
    Returns the next action while the change waits for this payment (None otherwise)."""
    change = db.session.get(PledgeChange, change_id)
    pledges.lock(change.pledge_id)
    change = pledge_changes.lock_change(change_id)
    if change.status == CS.PENDING.value:
        pledge_changes.await_action(change, result.ref)
    waiting = change.status == CS.REQUIRES_ACTION.value and change.charge_ref == result.ref
    db.session.commit()
    if not waiting:
        return None
    action = result.next_action
    return {
        "type": action.type if action else ("use_stripe_sdk" if result.requires_action else None),
        "url": action.url if action else None,
        "client_secret": result.client_secret,
    }


def check_change(change_id, *, ref=None):
    """Ask the processor what became of a waiting change's payment, and apply it. Returns a
    ChangeOutcome (with the next action while the backer still has to act).

    For the return page, the webhooks (`ref`: the payment the event names) and resume: all
    only *look again*, so they may race and repeat. A change that no longer waits is returned
    without a call. Raises TransientGatewayError when the processor does not answer, and
    Conflict `project_not_live` when the payment came after the campaign closed (refunded)."""
    change = db.session.get(PledgeChange, change_id, populate_existing=True)
    if change.status not in WAITING or (change.charge_ref is None and ref is None):
        db.session.commit()  # finished, or a charge call that never answered: resume's
        return _outcome(change_id)
    if ref is not None and change.charge_ref not in (None, ref):
        log.warning(
            "pledge %s change %s is paid by %s, not %s; ignored",
            change.pledge_id,
            change.number,
            change.charge_ref,
            ref,
        )
        db.session.commit()
        return _outcome(change_id)
    ref = change.charge_ref or ref
    db.session.commit()
    result = get_gateway().retrieve(ref)
    return _outcome(change_id, _settle(change_id, result, now=utcnow()))


def _settle(change_id, result, *, now, expired=False):
    """Apply what the processor says of a waiting change's payment. Returns the next action
    while it still waits for the backer."""
    change = db.session.get(PledgeChange, change_id)
    pledge = db.session.get(Pledge, change.pledge_id)
    expected, project_id = (change.amount_after, pledge.currency), pledge.project_id
    if result.amount is not None and (result.amount, result.currency) != expected:
        # Our server priced the new total; a payment of another amount is not this change's.
        log.error(
            "pledge change %s: processor reports %s %s for %s, expected %s %s; left for an admin",
            change_id,
            result.amount,
            result.currency,
            result.ref,
            *expected,
        )
        db.session.commit()
        return None
    if result.ok:
        _apply_paid(change_id, result, now=now)
        return None
    if result.requires_action or result.processing:
        return _await_action(change_id, result)
    code = "action_expired" if expired else (result.decline_code or "payment_failed")
    _give_up(change_id, project_id, code=code, now=now, tell_backer=expired)
    return None


def _apply_paid(change_id, result, *, now):
    """Step 3: the new total is paid; the new terms apply (or the new charge goes back)."""
    change = db.session.get(PledgeChange, change_id)
    pledge = pledges.lock(change.pledge_id)
    change = pledge_changes.lock_change(change_id)
    if change.status not in WAITING:  # finished by another run (the webhook, the return page, resume)
        db.session.commit()
        return
    change.charge_ref = result.ref or change.charge_ref
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
    if change.status in WAITING:
        change.charge_ref, change.refund_ref = result.ref, movement.ref
        pledge_changes.book_change_fee(change, currency, result.fee)
        pledge_changes.give_back_reserved(change, project_id, code="project_not_live", now=now)
    db.session.commit()


def _give_up(change_id, project_id, *, code, now, tell_backer=False):
    """The new total was not paid: the units go back, the change fails (`tell_backer`: and the
    backer is mailed, who is not on our page to hear it)."""
    change = db.session.get(PledgeChange, change_id)
    pledge = pledges.lock(change.pledge_id)
    change = pledge_changes.lock_change(change_id)
    if change.status in WAITING:
        pledge_changes.give_back_reserved(change, project_id, code=code, now=now)
        if tell_backer:
            pledge_change_mail.change_not_completed(change, pledge)
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
    elif found is not None and (found.requires_action or found.processing):
        _await_action(change_id, found)  # waits for the backer: looked at again, expired in time
    else:
        _give_up(change_id, project_id, code="abandoned", now=now)  # never paid: the units go back


def _expire(change_id):
    """Cancel a payment the backer never confirmed; what the processor answers is applied (a
    payment that succeeded meanwhile still applies the change)."""
    change = db.session.get(PledgeChange, change_id)
    pledge_id, number, ref = change.pledge_id, change.number, change.charge_ref
    db.session.commit()
    try:
        result = get_gateway().cancel(ref, idempotency_key=f"{charge_key(pledge_id, number)}-cancel")
    except TransientGatewayError:
        raise
    except GatewayError as error:
        log.warning("pledge %s change %s: the processor refused to cancel %s (%s)", pledge_id, number, ref, error)
        result = get_gateway().retrieve(ref)
    _settle(change_id, result, now=utcnow(), expired=True)


def resume_changes(older_than=60, *, now=None):
    """Finish changes a crash or a silent processor left open, and those waiting for the backer:
    looked at again, and past PLEDGE_ACTION_TIMEOUT cancelled (`_expire`). Safe to repeat.
    Returns how many were looked at."""
    now = now or utcnow()
    config = current_app.config
    window = timedelta(seconds=config["PROCESSOR_IDEMPOTENCY_WINDOW"])
    expire_before = now - timedelta(seconds=config["PLEDGE_ACTION_TIMEOUT"])
    rows = db.session.execute(
        db.select(PledgeChange.id, PledgeChange.status, PledgeChange.created_at).where(
            PledgeChange.status.in_((CS.PENDING.value, CS.REQUIRES_ACTION.value, CS.REFUND_PENDING.value)),
            PledgeChange.created_at <= now - timedelta(seconds=older_than),
        )
    ).all()
    db.session.commit()
    for change_id, status, created_at in rows:
        try:
            if status == CS.REFUND_PENDING.value:
                _refund(change_id)
            elif status == CS.REQUIRES_ACTION.value:
                if created_at <= expire_before:  # the backer never came back: no money is taken
                    _expire(change_id)
                else:  # a lost webhook or return page: look again
                    check_change(change_id)
            elif created_at > now - window:  # the same key again: the first charge's answer, never a second
                _charge_and_apply(change_id, now=utcnow(), raise_decline=False)
            else:  # the processor may have forgotten the key: only look the payment up
                _look_up(change_id, now=utcnow())
        except (DomainError, GatewayError) as error:
            db.session.rollback()
            log.warning("pledge change %s: not finished yet (%s)", change_id, error)
    return len(rows)
