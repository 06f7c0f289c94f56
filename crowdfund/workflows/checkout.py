"""Checkout: a pledge from the backer's click to money held in escrow. Commits its own steps.

Transactions (read this before changing anything here)
------------------------------------------------------
A payment call can never sit inside a database transaction: it may take seconds, and a
transaction held open across it would keep row locks (the tier's `sold` counter, the
project's totals) for all that time and serialise every backer behind one slow card. So
the functions here COMMIT THEIR OWN STEPS, and callers (views, jobs) must call them with
nothing of their own left uncommitted and must not commit for them. The steps of
`place_pledge`:

1. One short transaction, committed: lock the backer's row (one attempt at a time per
   backer, so the per-backer and investment limits cannot be raced), validate, price the
   pledge on the server, insert the pledge as `pending`, and last (the tier's row lock is
   what all its backers queue on) reserve the units or shares with a guarded atomic UPDATE
   (`sold = sold + q WHERE sold + q <= quantity`; no row matched -> `sold_out`). A refusal
   rolls back: nothing is written.
2. No transaction: `gateway.charge(idempotency_key="pledge-<id>")`. The key comes from our
   own id, so a retry of this step (a double submit) can never charge twice.
3. One transaction, committed (`apply_answer`): lock the pledge row (it must still be
   pending or requiring action) and apply what the processor said:
   - succeeded: the ledger transfer `pledge:<id>:hold` clearing -> escrow, pledge -> held
     and its receipt, and last (the project row is what all backers of a campaign queue
     on) the project's totals with a guarded UPDATE `WHERE status='live' AND deadline >
     now`. If that matched nothing (the campaign closed while the payment was in flight)
     the transaction is rolled back, the charge refunded (key `pledge-<id>-refund`), and
     one transaction releases the units and fails the pledge with `project_not_live`;
   - requires action (3-D Secure, Alipay, WeChat Pay): pledge -> `requires_action` with
     the processor's reference and what the backer must do. The answer comes later, by
     webhook, by the return page or by reconcile, and each of them goes through
     `check_payment`: it *retrieves* the payment (the only fact that counts) and applies
     it here again. Nothing but step 2 ever creates a charge;
   - declined: one transaction releases the units and fails the pledge; nothing reaches
     the ledger; PaymentDeclined is raised;
   - no answer (TransientGatewayError): the pledge stays `pending`, and
     `workflows.reconcile` finishes it later.

Lock order, everywhere: backer row -> tier/offering row (step 1); pledge row -> project
row -> tier/offering row (step 3 and cancellation).
"""

import logging

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..database import commit_keeping, once_more_if_disconnected
from ..domain.clock import utcnow
from ..domain.vocabulary import LATE_PLEDGE, LATE_PLEDGE_REFUND_PENDING
from ..errors import Conflict, DomainError, PaymentDeclined
from ..extensions import db
from ..models import Pledge
from ..payments import GatewayError, TransientGatewayError, get_gateway
from ..services import account_standing, pledge_outcomes, pledges
from ..services.pledges import OPEN_STATUSES, Attempt
from ..services.receipts import DECLINE_MESSAGES

log = logging.getLogger(__name__)


def place_pledge(
    backer,
    project,
    *,
    idempotency_key,
    payment_method,
    return_url=None,
    tier_id=None,
    quantity=1,
    amount=None,
    extra=0,
    shares=None,
    shipping_address=None,
    request_fingerprint=None,
    acknowledge_risks=False,
    add_ons=None,
    acknowledge_large_investment=False,
):
    """Back `project`: charge the backer and hold the money in escrow. Returns the pledge.

    Reward campaigns: a `tier_id` (with `quantity`) or, with no tier, a plain `amount`; an
    optional `extra` on top; `add_ons` ([{"id", "quantity"}], with a tier); a
    `shipping_address` when the tier or an add-on ships (to a country it ships to). Equity campaigns: a
    whole number of `shares`. Money is integer minor units.

    `idempotency_key` identifies this attempt (one per rendered form): the same key again
    returns the first pledge, whatever became of it, and charges nothing more; with a
    `request_fingerprint` (the API's) that differs from the first request's, 409 instead.
    `return_url(pledge_id)` gives the page the processor sends the backer back to after
    authenticating or paying in a wallet.

    Returns the pledge `held`, `requires_action` (its `next_action` says what the backer
    must do) or still `pending` (the processor did not answer). Raises a DomainError having
    written nothing on a refusal; PaymentDeclined (the pledge is then `failed`) on a
    decline; Conflict `project_not_live` when the campaign closed while the payment was in
    flight (the charge is refunded).
    """
    account_standing.require_may_transact(backer)  # 403 email_unverified / account_suspended: nothing written
    backer_id = backer.id
    try:
        attempt = pledges.reserve(
            backer_id,
            project.id,
            idempotency_key=idempotency_key,
            payment_method=payment_method,
            tier_id=tier_id,
            quantity=quantity,
            amount=amount,
            extra=extra,
            shares=shares,
            shipping_address=shipping_address,
            request_fingerprint=request_fingerprint,
            acknowledge_risks=acknowledge_risks,
            add_ons=add_ons,
            acknowledge_large_investment=acknowledge_large_investment,
        )
    except DomainError:
        db.session.rollback()
        raise
    except IntegrityError:
        # The same attempt was inserted concurrently: theirs stands, ours never happened.
        db.session.rollback()
        existing = pledges.find_attempt(backer_id, idempotency_key.strip())
        if existing is None:
            raise
        pledges.require_same_request(existing, project.id, request_fingerprint)
        attempt = existing
    db.session.commit()  # step 1
    if isinstance(attempt, Pledge):  # the same attempt again: no second charge
        return attempt
    return charge(attempt, actor_id=backer_id, return_url=return_url(attempt.id) if return_url else None)


def charge(attempt, *, actor_id, return_url=None, raise_decline=True):
    """Steps 2 and 3 for a new pending pledge. `raise_decline`: as for `apply_answer`
    (reconcile, re-sending a charge that never answered, mails the backer instead)."""
    try:
        result = get_gateway().charge(
            amount=attempt.amount,
            currency=attempt.currency,
            payment_method=attempt.payment_method,
            idempotency_key=pledges.charge_key(attempt.id),
            transfer_group=f"project-{attempt.project_id}",
            description=f"Pledge {attempt.id} to project {attempt.project_id}",
            metadata={"pledge_id": attempt.id, "project_id": attempt.project_id},
            return_url=return_url,
        )
    except TransientGatewayError as error:
        log.warning("pledge %s: charge not confirmed (%s); left pending for reconcile", attempt.id, error)
        return db.session.get(Pledge, attempt.id)
    except GatewayError as error:
        if error.code == "idempotency_conflict":
            # The processor has a payment under this key made with other parameters (a retry
            # without the first call's return_url): that payment is the truth, not a failure.
            return _adopt_existing(attempt, actor_id=actor_id)
        message = _("The payment could not be made. Please try another card.")
        pledge = _fail(
            attempt,
            code=error.code or "payment_error",
            message=str(error),
            actor_id=actor_id,
            tell_backer=not raise_decline,
        )
        if not raise_decline:
            return pledge
        raise PaymentDeclined(
            message, code=error.code or "payment_error", fields={"payment_method": message}
        ) from error
    # The card may be charged now: a dropped database connection gets one more try at
    # recording it (step 3 is safe to repeat), before the pledge is left to reconcile.
    return once_more_if_disconnected(
        db.session, apply_answer, attempt, result, actor_id=actor_id, raise_decline=raise_decline
    )


def _adopt_existing(attempt, *, actor_id):
    found = get_gateway().find_charge(pledges.charge_key(attempt.id))
    if found is None:  # not searchable yet: reconcile looks again later
        log.warning("pledge %s: the processor has a payment under its key but cannot show it yet", attempt.id)
        return db.session.get(Pledge, attempt.id)
    return apply_answer(attempt, found, actor_id=actor_id, raise_decline=False)


def check_payment(pledge_id):
    """Ask the processor what became of an open pledge's payment, and apply it (step 3).

    For the return page, the webhooks and reconcile: all three only *look again*. A pledge
    that is no longer open is returned untouched without a call; one whose processor
    reference is not known yet (its charge call never answered) is left to reconcile.
    Raises TransientGatewayError when the processor does not answer."""
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.status not in OPEN_STATUSES or pledge.charge_ref is None:
        db.session.commit()
        return pledge
    attempt, ref = Attempt.of(pledge), pledge.charge_ref
    db.session.commit()
    result = get_gateway().retrieve(ref)
    return apply_answer(attempt, result, actor_id=None, raise_decline=False, charge_ref=ref)


def apply_answer(attempt, result, *, actor_id, raise_decline=True, charge_ref=None):
    """Step 3: what the processor said about the payment, applied under the pledge's lock.

    Safe to repeat and to race (the webhook, the return page, reconcile): a pledge that is
    no longer open is left as it is. `raise_decline`: the backer is waiting on this answer
    (the charge call), so a decline is raised to them rather than mailed."""
    ref = result.ref or charge_ref
    if result.amount is not None and (result.amount, result.currency) != (attempt.amount, attempt.currency):
        # Our server priced the payment; a different amount is not this pledge's payment.
        db.session.rollback()
        log.error(
            "pledge %s: processor reports %s %s for %s, expected %s %s; left for an admin",
            attempt.id,
            result.amount,
            result.currency,
            ref,
            attempt.amount,
            attempt.currency,
        )
        return db.session.get(Pledge, attempt.id)
    if result.ok:
        return _hold(attempt, ref, actor_id=actor_id, fee=result.fee, tell_backer=not raise_decline)
    if result.requires_action or result.processing:
        pledge = pledges.lock(attempt.id)
        if pledge.status in OPEN_STATUSES:
            if result.requires_action:
                action = result.next_action
                pledge_outcomes.await_action(
                    pledge,
                    ref,
                    {
                        "type": action.type if action else "use_stripe_sdk",
                        "url": action.url if action else None,
                        "client_secret": result.client_secret,
                    },
                    actor_id=actor_id,
                )
            else:
                pledge.charge_ref = ref  # processing: the processor answers later
        commit_keeping(db.session, pledge)
        return pledge
    code = result.decline_code or "card_declined"
    message = result.message or "Your card was declined."  # stored as the processor said it
    pledge = _fail(
        attempt, code=code, message=message, charge_ref=ref, actor_id=actor_id, tell_backer=not raise_decline
    )
    if raise_decline:
        shown = str(DECLINE_MESSAGES[code]) if code in DECLINE_MESSAGES else message
        raise PaymentDeclined(shown, code=code, fields={"payment_method": shown})
    return pledge


def _hold(attempt, charge_ref, *, actor_id, fee=None, tell_backer=False):
    """The payment succeeded: escrow it, or refuse a pledge that lost the deadline race."""
    pledge = pledge_outcomes.lock_with_receipt_data(attempt.id)
    if pledge.status not in OPEN_STATUSES:  # someone (the webhook, reconcile, a retry) finished it
        db.session.commit()
        return pledge
    if not pledge_outcomes.hold(pledge, attempt, charge_ref, actor_id=actor_id, now=utcnow(), fee=fee):
        db.session.rollback()
        return _refuse_late(attempt, charge_ref, actor_id=actor_id, fee=fee, tell_backer=tell_backer)
    commit_keeping(db.session, pledge)  # the caller answers with it: no SELECT after the commit
    return pledge


def _refuse_late(attempt, charge_ref, *, actor_id, fee=None, tell_backer=False):
    """The payment succeeded but the campaign closed meanwhile: refund, then fail the pledge
    (and mail the backer, with `tell_backer`: they are not on our page to hear it)."""
    try:
        movement = get_gateway().refund(
            charge_ref=charge_ref,
            amount=attempt.amount,
            currency=attempt.currency,
            idempotency_key=pledges.refund_key(attempt.id),
        )
    except TransientGatewayError as error:
        # The charge is recorded on the pledge: reconcile retrieves it and refunds it again.
        log.warning("pledge %s: late pledge's refund not confirmed (%s); left for reconcile", attempt.id, error)
        _record_ref(attempt.id, charge_ref)
        raise Conflict(_(LATE_PLEDGE_REFUND_PENDING), code="project_not_live") from error
    _fail(
        attempt,
        code="project_not_live",
        message=LATE_PLEDGE,
        charge_ref=charge_ref,
        refund_ref=movement.ref,
        actor_id=actor_id,
        processor_fee=fee,
        tell_backer=tell_backer,
    )
    raise Conflict(_(LATE_PLEDGE), code="project_not_live")


def _record_ref(pledge_id, charge_ref):
    pledge = pledges.lock(pledge_id)
    if pledge.status in OPEN_STATUSES and pledge.charge_ref is None:
        pledge.charge_ref = charge_ref
    db.session.commit()


def _fail(
    attempt, *, code, message, charge_ref=None, refund_ref=None, actor_id=None, tell_backer=False, processor_fee=None
):
    """One transaction: release the reserved units and end the open pledge as failed."""
    pledge = pledges.lock(attempt.id)
    if pledge.status in OPEN_STATUSES:
        pledge_outcomes.fail(
            pledge,
            attempt,
            code=code,
            message=message,
            charge_ref=charge_ref,
            refund_ref=refund_ref,
            actor_id=actor_id,
            tell_backer=tell_backer,
            processor_fee=processor_fee,
        )
    commit_keeping(db.session, pledge)
    return pledge
