"""Pledges: reward pledges and equity commitments, their payment, escrow and cancellation.

Transactions (read this before changing anything here)
------------------------------------------------------
A payment call can never sit inside a database transaction: it may take seconds, and a
transaction held open across it would keep row locks (the tier's `sold` counter, the
project's totals) for all that time and serialise every backer behind one slow card. So,
unlike the other services, the functions here COMMIT THEIR OWN STEPS, and callers (views,
jobs) must call them with nothing of their own left uncommitted and must not commit for
them. The steps of `place_pledge`:

1. One short transaction, committed: lock the backer's row (one attempt at a time per
   backer, so the per-backer and investment limits cannot be raced), validate, price the
   pledge on the server, insert the pledge as `pending`, and last (the tier's row lock is
   what all its backers queue on) reserve the units or shares with a guarded atomic UPDATE
   (`sold = sold + q WHERE sold + q <= quantity`; no row matched -> `sold_out`). A refusal
   rolls back: nothing is written.
2. No transaction: `gateway.charge(idempotency_key="pledge-<id>")`. The key comes from our
   own id, so any retry of this step (a double submit, `reconcile_pending`) can never
   charge twice.
3. One transaction, committed: lock the pledge row (it must still be pending), write the
   ledger transfer `pledge:<id>:hold` clearing -> escrow, pledge -> held and its receipt,
   and last (the project row is what all backers of a campaign queue on) move the
   project's totals with a guarded UPDATE `WHERE status='live' AND deadline > now`.
   - it matched: commit;
   - it did not (the deadline passed or the campaign closed while the card was being
     charged): the transaction is rolled back, the charge is refunded
     (key `pledge-<id>-refund`), then one transaction releases the units and fails the
     pledge with `project_not_live`;
   - the card was declined: one transaction releases the units and fails the pledge;
     nothing reaches the ledger; PaymentDeclined is raised;
   - the gateway did not answer (TransientGatewayError): the pledge stays `pending` and
     `reconcile_pending` re-drives it later with the same idempotency key.

`cancel_pledge` first moves the money in our books (one transaction: ledger
`pledge:<id>:refund` escrow -> clearing, totals and units back, pledge -> cancelled,
guarded by the campaign still being open), commits, and only then asks the gateway to
refund (key `pledge-<id>-refund`). Doing the books first means a settlement running at
the deadline can never release a pledge whose money was already sent back; a refund the
gateway did not confirm is retried by `reconcile_pending` (a cancelled pledge with no
`refund_ref`), never made twice.

Lock order, everywhere: backer row -> tier/offering row (step 1); pledge row -> project
row -> tier/offering row (steps 3 and cancellation).
"""
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import get_locale, gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from .. import change_tokens, ledger
from ..database import commit_keeping
from ..domain.money import format_money, max_minor
from ..errors import Conflict, DomainError, NotFound, PaymentDeclined, PermissionDenied, ValidationError
from ..extensions import db
from ..models import EquityOffering, Pledge, Project, RewardTier, User, utcnow
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectKind, ProjectStatus
from ..payments import GatewayError, TransientGatewayError, get_gateway
from . import investors, notifications
from .discovery import LONG_TEXTS
from .firms import country_names
from .transitions import PROJECT_STATUS_WORDS, transition

log = logging.getLogger(__name__)

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "country")
REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "postal_code", "country")
ADDRESS_MISSING = {"name": _l("Enter the recipient's name."), "line1": _l("Enter the street address."),
                   "city": _l("Enter the city."), "postal_code": _l("Enter the postal code."),
                   "country": _l("Enter the country.")}
WHOLE_MESSAGES = {"extra": _l("Enter the extra amount as a whole number."),
                  "amount": _l("Enter the amount as a whole number."),
                  "tier_id": _l("Enter the reward as a whole number."),
                  "quantity": _l("Enter the quantity as a whole number."),
                  "shares": _l("Enter the number of shares as a whole number.")}


# What a person is told when the card is refused (the processor's own words are kept on the pledge).
DECLINE_MESSAGES = {"card_declined": _l("Your card was declined."),
                    "insufficient_funds": _l("Your card has insufficient funds."),
                    "expired_card": _l("Your card has expired."),
                    "authentication_required": _l("Your bank asks you to confirm this payment; please use another card.")}
PLEDGE_STATUS_WORDS = {PS.PENDING.value: _l("pending"), PS.HELD.value: _l("held in escrow"),
                       PS.RELEASED.value: _l("released"), PS.REFUNDED.value: _l("refunded"),
                       PS.CANCELLED.value: _l("cancelled"), PS.FAILED.value: _l("failed")}


def _money(minor, currency):
    """An amount for a message, formatted for the person reading it."""
    return format_money(minor, currency, locale=str(get_locale() or "en"))
# Statuses a campaign page is public in (before approval a project is nobody's business).
PUBLIC_STATUSES = {ProjectStatus.LIVE.value, ProjectStatus.SUCCESSFUL.value, ProjectStatus.FAILED.value,
                   ProjectStatus.CANCELLED.value, ProjectStatus.SUSPENDED.value}
# Units a backer already has on a tier (for the per-backer limit).
ACTIVE_STATUSES = (PS.PENDING.value, PS.HELD.value)

# The statements every pledge runs, built once. Building each statement and its cache key on
# every call was a fifth of a pledge's Python calls in the web process; the SQL is the same.
_NO_SYNC = {"synchronize_session": False}
# The backing form and its POST.
_PROJECT_BY_SLUG = select(Project).where(Project.slug == bindparam("slug")).options(*LONG_TEXTS)
_PROJECT_WITH_TERMS = _PROJECT_BY_SLUG.options(selectinload(Project.tiers), joinedload(Project.equity),
                                               joinedload(Project.firm))
# Step 1: lock the backer (one attempt at a time) and look for this attempt's key.
_BACKER_AND_ATTEMPT = (
    select(User.id, Pledge).select_from(User)
    .outerjoin(Pledge, (Pledge.backer_id == User.id) & (Pledge.idempotency_key == bindparam("key")))
    .where(User.id == bindparam("backer")).with_for_update(of=User, key_share=True))
_PROJECT_TIER = select(RewardTier).where(RewardTier.id == bindparam("tier"),
                                         RewardTier.project_id == bindparam("project"))
_RESERVE_TIER_UNITS = (
    update(RewardTier).where(RewardTier.id == bindparam("tier"), or_(
        RewardTier.quantity.is_(None), RewardTier.sold + bindparam("q") <= RewardTier.quantity))
    .values(sold=RewardTier.sold + bindparam("q")).execution_options(**_NO_SYNC))
# Step 3: lock the pledge, loading what its receipt shows (only the pledge row is locked).
_LOCK_WITH_RECEIPT_DATA = (
    select(Pledge).where(Pledge.id == bindparam("pledge"))
    .options(joinedload(Pledge.backer), joinedload(Pledge.tier),
             joinedload(Pledge.project).options(joinedload(Project.firm), *LONG_TEXTS))
    .with_for_update(of=Pledge).execution_options(populate_existing=True))
_ADD_TO_TOTAL = (
    update(Project).where(Project.id == bindparam("project"), Project.status == ProjectStatus.LIVE.value,
                          Project.deadline > bindparam("now"))
    .values(pledged_amount=Project.pledged_amount + bindparam("amount")).execution_options(**_NO_SYNC))
# The backer's other held pledges on the project (are they counted among its backers already?).
_OTHER_HELD = select(Pledge.id).where(Pledge.project_id == bindparam("project"),
                                      Pledge.backer_id == bindparam("backer"),
                                      Pledge.status == PS.HELD.value, Pledge.id != bindparam("pledge"))
_COUNT_NEW_BACKER = (
    update(Project).where(Project.id == bindparam("project"), ~_OTHER_HELD.exists())
    .values(backer_count=Project.backer_count + 1).execution_options(**_NO_SYNC))


@dataclass(frozen=True)
class _Attempt:
    """What steps 2 and 3 need, read while the data was fresh (no lazy loads later)."""

    id: int
    backer_id: int
    project_id: int
    amount: int
    currency: str
    payment_method: str
    tier_id: int | None
    quantity: int
    shares: int | None

    @classmethod
    def of(cls, pledge):
        return cls(pledge.id, pledge.backer_id, pledge.project_id, pledge.amount, pledge.currency,
                   pledge.payment_method, pledge.tier_id, pledge.quantity, pledge.shares)


def charge_key(pledge_id):
    return f"pledge-{pledge_id}"


def refund_key(pledge_id):
    return f"pledge-{pledge_id}-refund"


# -- placing a pledge -------------------------------------------------------------------------

def place_pledge(backer, project, *, idempotency_key, payment_method, tier_id=None, quantity=1,
                 amount=None, extra=0, shares=None, shipping_address=None):
    """Back `project`: charge the backer and hold the money in escrow. Returns the pledge.

    Reward campaigns: a `tier_id` (with `quantity`) or, with no tier, a plain `amount`;
    an optional `extra` on top; a `shipping_address` when the tier ships. Equity
    campaigns: a whole number of `shares`. Money is integer minor units; the amount
    charged is always computed here, never taken from the input.

    `idempotency_key` identifies this attempt (one per rendered form): the same key again
    returns the first pledge, whatever became of it, and charges nothing more.

    Returns the pledge `held` (or still `pending` when the gateway did not answer, see
    `reconcile_pending`). Raises a DomainError having written nothing on a refusal;
    PaymentDeclined (the pledge is then `failed`) on a decline; Conflict `project_not_live`
    when the campaign closed while the payment was in flight (the charge is refunded).
    Commits its own steps: see the module docstring.
    """
    backer_id, project_id = backer.id, project.id
    try:
        attempt = _reserve(backer_id, project_id, idempotency_key=idempotency_key,
                           payment_method=payment_method, tier_id=tier_id, quantity=quantity, amount=amount,
                           extra=extra, shares=shares, shipping_address=shipping_address)
    except DomainError:
        db.session.rollback()
        raise
    if isinstance(attempt, Pledge):  # the same attempt again: no second charge
        return attempt
    return _drive(attempt, actor_id=backer_id)


def new_attempt_key():
    """A fresh idempotency key: one per rendered form or API request that sent none."""
    return secrets.token_urlsafe(18)


def failure_error(pledge):
    """The error a failed pledge's attempt ended with, to answer a replay of it the same way."""
    message = pledge.failure_message or "The payment could not be made."
    if pledge.failure_code == "project_not_live":
        return Conflict(message, code="project_not_live")
    return PaymentDeclined(message, code=pledge.failure_code or "card_declined", fields={"payment_method": message})


def find_attempt(backer_id, idempotency_key):
    return db.session.scalar(select(Pledge).where(Pledge.backer_id == backer_id,
                                                  Pledge.idempotency_key == idempotency_key))


def _reserve(backer_id, project_id, *, idempotency_key, payment_method, tier_id, quantity, amount, extra,
             shares, shipping_address):
    """Step 1: validate, price, reserve and insert the pending pledge; commit."""
    if not isinstance(idempotency_key, str) or not 8 <= len(idempotency_key.strip()) <= 100:
        raise ValidationError(_("This form has expired. Please reload the page and try again."),
                              code="missing_idempotency_key")
    idempotency_key = idempotency_key.strip()
    # One attempt at a time per backer: the limits below read the backer's other pledges.
    # The same statement looks for an earlier attempt with this key.
    existing = db.session.execute(_BACKER_AND_ATTEMPT, {"key": idempotency_key, "backer": backer_id}).one().Pledge
    if existing is not None:
        if existing.project_id != project_id:
            raise Conflict("This idempotency key was already used for a pledge to another campaign; "
                           "use a new key for each attempt.", code="idempotency_key_reused")
        db.session.commit()
        return existing
    if not isinstance(payment_method, str) or not payment_method.strip() or len(payment_method) > 100:
        raise ValidationError(_("Choose how you want to pay."), code="payment_method_required",
                              fields={"payment_method": _("Choose how you want to pay.")})
    now = utcnow()
    # Usually loaded by the caller in this transaction already (no query then). Its status
    # may be a moment old: step 3's guarded UPDATE is what a closing campaign cannot slip past.
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound(_("There is no such campaign."))
    require_open(project, now)
    if project.kind == ProjectKind.EQUITY.value:
        priced = _price_equity(backer_id, project, shares=shares, tier_id=tier_id, amount=amount, extra=extra,
                               now=now)
    else:
        priced = _price_reward(backer_id, project, tier_id=tier_id, quantity=quantity, amount=amount,
                               extra=extra, shares=shares, shipping_address=shipping_address, now=now)
    pledge = Pledge(project_id=project.id, backer_id=backer_id, status=PS.PENDING.value,
                    idempotency_key=idempotency_key, currency=project.currency,
                    payment_method=payment_method.strip(), created_at=now, **priced)
    db.session.add(pledge)
    try:
        db.session.flush()
    except IntegrityError:
        # The same attempt was inserted concurrently: theirs stands, ours never happened.
        db.session.rollback()
        existing = find_attempt(backer_id, idempotency_key)
        if existing is None:
            raise
        db.session.commit()
        return existing
    # Last, just before COMMIT: every backer of the tier queues on its row's lock.
    _reserve_units(project, priced)
    attempt = _Attempt.of(pledge)
    db.session.commit()
    return attempt


def require_open(project, now=None):
    """Raise `project_not_live` unless the campaign takes pledges right now."""
    now = now or utcnow()
    if project.status != ProjectStatus.LIVE.value:
        raise Conflict(_("This campaign is not taking pledges: it is %(status)s.",
                         status=PROJECT_STATUS_WORDS.get(ProjectStatus(project.status), project.status)),
                       code="project_not_live")
    if project.deadline is None or project.deadline <= now:
        raise Conflict(_("This campaign has reached its deadline and no longer takes pledges."),
                       code="project_not_live")


def is_open(project, now=None):
    """Whether the campaign takes pledges right now (`require_open` without the error)."""
    try:
        require_open(project, now)
    except Conflict:
        return False
    return True


def _whole(value, field, label):
    if value is None or value == "":
        return None
    if type(value) is not int:
        message = str(WHOLE_MESSAGES.get(field) or _("Enter %(what)s as a whole number.", what=label))
        raise ValidationError(message, fields={field: message})
    return value


def _check_total(total, currency, field):
    if total > max_minor(currency):
        message = _("That is more than any single pledge can be (at most %(amount)s).",
                    amount=_money(max_minor(currency), currency))
        raise ValidationError(message, code="amount_too_large", fields={field: message})


def _extra(extra, currency):
    extra = _whole(extra, "extra", "the extra amount") or 0
    if extra < 0:
        raise ValidationError(_("The extra amount cannot be negative."),
                              fields={"extra": _("The extra amount cannot be negative.")})
    _check_total(extra, currency, "extra")
    return extra


def _price_reward(backer_id, project, *, tier_id, quantity, amount, extra, shares, shipping_address, now):
    if shares:
        raise ValidationError(_("This is a reward campaign; it does not sell shares."),
                              fields={"shares": _("This is a reward campaign; it does not sell shares.")})
    currency = project.currency
    extra = _extra(extra, currency)
    if tier_id in (None, ""):
        amount = _whole(amount, "amount", "the amount")
        if amount is None or amount <= 0:
            message = _("Enter an amount above zero, or choose a reward.")
            raise ValidationError(message, fields={"amount": message})
        _check_total(amount + extra, currency, "amount")
        return {"tier_id": None, "quantity": 1, "shares": None, "reward_amount": 0,
                "extra_amount": amount + extra, "shipping_fee": 0, "amount": amount + extra,
                "shipping_address": None}

    tier = db.session.scalar(_PROJECT_TIER, {"tier": _whole(tier_id, "tier_id", "the reward"), "project": project.id})
    if tier is None:
        raise ValidationError(_("Choose one of this campaign's rewards."), fields={"tier_id": _("Choose a reward.")})
    quantity = _whole(quantity, "quantity", "the quantity")
    if quantity is None or quantity < 1:
        raise ValidationError(_("The quantity must be at least 1."), fields={"quantity": _("The quantity must be at least 1.")})
    most = current_app.config["PLEDGE_MAX_QUANTITY"]
    if quantity > most:
        message = _("One pledge can hold at most %(num)d of a reward.", num=most)
        raise ValidationError(message, fields={"quantity": message})
    if tier.available_from is not None and now < tier.available_from:
        raise ValidationError(_("The reward “%(title)s” is not available yet.", title=tier.title),
                              code="tier_not_available", fields={"tier_id": _("Not available yet.")})
    if tier.available_until is not None and now >= tier.available_until:
        raise ValidationError(_("The reward “%(title)s” is no longer available.", title=tier.title),
                              code="tier_not_available", fields={"tier_id": _("No longer available.")})
    if tier.per_backer_limit is not None:
        held = db.session.scalar(select(func.coalesce(func.sum(Pledge.quantity), 0)).where(
            Pledge.backer_id == backer_id, Pledge.tier_id == tier.id, Pledge.status.in_(ACTIVE_STATUSES)))
        if held + quantity > tier.per_backer_limit:
            left = max(tier.per_backer_limit - held, 0)
            message = _("Each backer can have at most %(limit)d of “%(title)s”; you already have %(held)d, "
                        "so you can add %(left)d.", limit=tier.per_backer_limit, title=tier.title, held=held,
                        left=left)
            raise ValidationError(message, code="per_backer_limit", fields={"quantity": message})
    reward = tier.price * quantity
    address, fee = None, 0
    if tier.shipping != "none":
        address = clean_address(shipping_address)
        fee = tier.shipping_fee
    total = reward + extra + fee
    _check_total(total, currency, "quantity")
    return {"tier_id": tier.id, "quantity": quantity, "shares": None, "reward_amount": reward,
            "extra_amount": extra, "shipping_fee": fee, "amount": total, "shipping_address": address}


def clean_address(raw):
    """The shipping address, trimmed, or a ValidationError naming every missing part."""
    raw = raw or {}
    address = {key: str(raw.get(key) or "").strip() for key in ADDRESS_FIELDS}
    errors = {}
    for key in REQUIRED_ADDRESS_FIELDS:
        if not address[key]:
            errors[f"shipping_{key}"] = str(ADDRESS_MISSING[key])
        elif len(address[key]) > 200:
            errors[f"shipping_{key}"] = _("That is too long.")
    address["country"] = address["country"].upper()
    if address["country"] and address["country"] not in country_names():
        errors["shipping_country"] = _("Choose the country to ship to.")
    if errors:
        raise ValidationError(_("This reward ships: please give a full shipping address."), code="address_required",
                              fields=errors)
    return address


def _price_equity(backer_id, project, *, shares, tier_id, amount, extra, now):
    offering = db.session.scalar(select(EquityOffering).where(EquityOffering.project_id == project.id)
                                 .execution_options(populate_existing=True))
    if offering is None:
        raise Conflict(_("This campaign has no share offering."), code="project_not_live")
    if tier_id not in (None, "") or amount not in (None, "", 0) or extra not in (None, "", 0):
        raise ValidationError(_("This is an equity campaign: choose a number of shares."),
                              fields={"shares": _("Choose a number of shares.")})
    shares = _whole(shares, "shares", "the number of shares")
    if shares is None or shares < max(offering.min_shares, 1):
        message = _("The smallest investment is %(num)d shares.", num=offering.min_shares)
        raise ValidationError(message, code="below_min_shares", fields={"shares": message})
    total = shares * offering.price_per_share
    _check_total(total, project.currency, "shares")

    profile = investors.get_profile(db.session.get(User, backer_id))
    if not investors.is_complete(profile):
        raise ValidationError(_("Before your first investment, please complete your investor profile and confirm "
                                "that you understand the risks."), code="investor_profile_required")
    if profile.currency != project.currency:
        raise ValidationError(_("Your investor profile is in %(profile)s, but this offering is in %(offering)s. "
                                "Please update your profile in %(offering)s.", profile=profile.currency,
                                offering=project.currency),
                              code="investor_profile_required")
    if not profile.accredited:
        user = db.session.get(User, backer_id)
        allowance = investors.allowance(user, profile, project.currency, now=now)
        if total > allowance.remaining:
            message = _("This investment of %(amount)s is over your 12-month investment limit.",
                        amount=_money(total, project.currency)) + " " + allowance.describe()
            raise ValidationError(message, code="investment_limit_exceeded", fields={"shares": message})
    return {"tier_id": None, "quantity": 1, "shares": shares, "reward_amount": total, "extra_amount": 0,
            "shipping_fee": 0, "amount": total, "shipping_address": None}


def _reserve_units(project, priced):
    """The guarded UPDATE that makes overselling impossible, even with many at once."""
    if priced["tier_id"] is not None:
        done = db.session.execute(_RESERVE_TIER_UNITS, {"tier": priced["tier_id"], "q": priced["quantity"]}).rowcount
        if not done:
            left = db.session.scalar(select(RewardTier.quantity - RewardTier.sold).where(
                RewardTier.id == priced["tier_id"]))
            message = (_("This reward is sold out.") if not left else
                       ngettext("Only %(num)d of this reward is left.", "Only %(num)d of this reward are left.", left))
            raise Conflict(message, code="sold_out", fields={"quantity": message})
        change_tokens.campaign_changed(db.session, project.id)  # units left, on its page
    elif priced["shares"] is not None:
        s = priced["shares"]
        done = db.session.execute(
            update(EquityOffering).where(EquityOffering.project_id == project.id,
                                         EquityOffering.shares_committed + s <= EquityOffering.shares_offered)
            .values(shares_committed=EquityOffering.shares_committed + s)
            .execution_options(synchronize_session=False)).rowcount
        if not done:
            left = db.session.scalar(select(EquityOffering.shares_offered - EquityOffering.shares_committed)
                                     .where(EquityOffering.project_id == project.id))
            message = (_("Every share on offer is taken.") if not left else
                       _("Only %(num)d shares are left.", num=left))
            raise Conflict(message, code="sold_out", fields={"shares": message})
        change_tokens.campaign_changed(db.session, project.id)


def _release_units(attempt):
    """Give back what step 1 reserved (a failed or cancelled pledge)."""
    if attempt.tier_id is not None:
        done = db.session.execute(
            update(RewardTier).where(RewardTier.id == attempt.tier_id, RewardTier.sold >= attempt.quantity)
            .values(sold=RewardTier.sold - attempt.quantity).execution_options(synchronize_session=False)).rowcount
    elif attempt.shares is not None:
        done = db.session.execute(
            update(EquityOffering).where(EquityOffering.project_id == attempt.project_id,
                                         EquityOffering.shares_committed >= attempt.shares)
            .values(shares_committed=EquityOffering.shares_committed - attempt.shares)
            .execution_options(synchronize_session=False)).rowcount
    else:
        return
    if not done:  # pragma: no cover - would mean the counters were already wrong
        log.error("pledge %s: could not release its reserved units; counters need a look", attempt.id)
    change_tokens.campaign_changed(db.session, attempt.project_id)


# -- steps 2 and 3 --------------------------------------------------------------------------

def _lock(pledge_id):
    return db.session.scalars(select(Pledge).where(Pledge.id == pledge_id).with_for_update()
                              .execution_options(populate_existing=True)).one()


def _drive(attempt, *, actor_id):
    """Steps 2 and 3 for a pending pledge. Safe to repeat: same keys, state re-checked under lock."""
    gateway = get_gateway()
    try:
        result = gateway.charge(amount=attempt.amount, currency=attempt.currency,
                                payment_method=attempt.payment_method, idempotency_key=charge_key(attempt.id),
                                transfer_group=f"project-{attempt.project_id}",
                                description=f"Pledge {attempt.id} to project {attempt.project_id}",
                                metadata={"pledge_id": attempt.id, "project_id": attempt.project_id})
    except TransientGatewayError as error:
        log.warning("pledge %s: charge not confirmed (%s); left pending for reconcile", attempt.id, error)
        return db.session.get(Pledge, attempt.id)
    except GatewayError as error:
        message = _("The payment could not be made. Please try another card.")
        _fail(attempt, code=error.code or "payment_error", message=str(error), actor_id=actor_id)
        raise PaymentDeclined(message, code=error.code or "payment_error",
                              fields={"payment_method": message})
    if result.ok:
        return _hold(attempt, result.ref, actor_id=actor_id)
    if result.requires_action:
        # The browser must finish the payment (3-D Secure); the gateway's webhook or
        # reconcile_pending completes the pledge with the same idempotency key.
        return db.session.get(Pledge, attempt.id)
    code = result.decline_code or "card_declined"
    message = result.message or "Your card was declined."  # stored as the processor said it
    _fail(attempt, code=code, message=message, charge_ref=result.ref, actor_id=actor_id)
    shown = str(DECLINE_MESSAGES[code]) if code in DECLINE_MESSAGES else message
    raise PaymentDeclined(shown, code=code, fields={"payment_method": shown})


def _lock_with_receipt_data(pledge_id):
    """`_lock`, loading with the same statement what the receipt mail shows (only the pledge row is locked)."""
    return db.session.scalars(_LOCK_WITH_RECEIPT_DATA, {"pledge": pledge_id}).unique().one()


def _hold(attempt, charge_ref, *, actor_id):
    """Step 3 after a successful charge: escrow it, or refuse a pledge that lost the deadline race.

    The project's row is what every pledge to the campaign queues on, so it is locked last:
    the books, the pledge and its receipt are written first, and the guarded UPDATEs of the
    totals come just before COMMIT (a refusal rolls all of it back)."""
    now = utcnow()
    pledge = _lock_with_receipt_data(attempt.id)
    if pledge.status != PS.PENDING.value:  # someone (reconcile, a retry) finished it already
        db.session.commit()
        return pledge
    ledger.transfer(ledger.hold_id(attempt.id), ledger.clearing_key(attempt.currency),
                    ledger.escrow_key(attempt.project_id), attempt.amount, attempt.currency, ledger.PLEDGE_HOLD,
                    pledge_id=attempt.id)
    pledge.charge_ref = charge_ref
    pledge.held_at = now
    transition(pledge, PS.HELD, actor=actor_id, note="payment succeeded; money held in escrow")
    notifications.pledge_receipt(pledge)
    moved = db.session.execute(_ADD_TO_TOTAL, {"project": attempt.project_id, "now": now,
                                               "amount": attempt.amount}).rowcount
    if not moved:
        db.session.rollback()
        notifications.pop_queued_flag(db.session)  # the receipt was rolled back with the rest
        return _refuse_late(attempt, charge_ref, actor_id=actor_id)
    change_tokens.campaign_changed(db.session, attempt.project_id)  # the totals on its page
    # The UPDATE above locked the project row, so no other pledge of this backer can become
    # held on this project until we commit, and this statement's snapshot, taken after that
    # lock, sees any that did before: the distinct-backer count is exact. One statement:
    # count the backer unless they already have another held pledge here.
    db.session.execute(_COUNT_NEW_BACKER, _other_held_params(attempt))
    commit_keeping(db.session, pledge)  # the caller answers with it: no SELECT after the commit
    return pledge


def _other_held_params(attempt):
    """The parameters of `_OTHER_HELD` (and `_COUNT_NEW_BACKER`) for this attempt."""
    return {"project": attempt.project_id, "backer": attempt.backer_id, "pledge": attempt.id}


def _has_other_held(attempt):
    return db.session.scalar(_OTHER_HELD.limit(1), _other_held_params(attempt)) is not None


def _refuse_late(attempt, charge_ref, *, actor_id):
    """The card was charged but the campaign closed meanwhile: refund, then fail the pledge."""
    message = ("The campaign closed before your payment went through, so your pledge was not accepted. "
               "The charge has been refunded to you.")
    try:
        movement = get_gateway().refund(charge_ref=charge_ref, amount=attempt.amount, currency=attempt.currency,
                                        idempotency_key=refund_key(attempt.id))
    except TransientGatewayError as error:
        log.warning("pledge %s: late pledge's refund not confirmed (%s); left pending for reconcile",
                    attempt.id, error)
        raise Conflict(_("The campaign closed before your payment went through, so your pledge was not "
                         "accepted. Any charge will be refunded to you automatically."), code="project_not_live")
    _fail(attempt, code="project_not_live", message=message, charge_ref=charge_ref, refund_ref=movement.ref,
          actor_id=actor_id)
    raise Conflict(_("The campaign closed before your payment went through, so your pledge was not accepted. "
                     "The charge has been refunded to you."), code="project_not_live")


def _fail(attempt, *, code, message, charge_ref=None, refund_ref=None, actor_id=None):
    """One transaction: release the reserved units and end the pending pledge as failed."""
    pledge = _lock(attempt.id)
    if pledge.status != PS.PENDING.value:
        db.session.commit()
        return pledge
    _release_units(attempt)
    pledge.charge_ref = charge_ref or pledge.charge_ref
    pledge.refund_ref = refund_ref or pledge.refund_ref
    pledge.failure_code = code
    pledge.failure_message = message
    pledge.ended_at = utcnow()
    transition(pledge, PS.FAILED, actor=actor_id, note=f"{code}: {message}")
    db.session.commit()
    return pledge


# -- reconciliation ----------------------------------------------------------------------------

def drive_pending(pledge_id):
    """Steps 2 and 3 again for one pending pledge (same idempotency key: never a second charge).

    For `reconcile_pending`, and for a payment webhook once the processor has an answer
    (e.g. after 3-D Secure). A pledge that is no longer pending is returned untouched.
    Raises like `place_pledge` when the answer is a decline or the campaign has closed.
    """
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.status != PS.PENDING.value:
        db.session.commit()
        return pledge
    attempt = _Attempt.of(pledge)
    db.session.commit()
    return _drive(attempt, actor_id=None)


def reconcile_pending(older_than=timedelta(minutes=10), *, now=None):
    """Finish what a gateway failure left half-done. Safe to run any time, and to repeat.

    - pending pledges older than `older_than`: charge again with the same idempotency key
      (the processor returns the first charge if there was one: never a second charge),
      then step 3 as usual;
    - cancelled pledges whose refund the gateway never confirmed: refund again with the
      same key.
    Commits its own steps. Returns counts by outcome.
    """
    cutoff = (now or utcnow()) - older_than
    pending = db.session.scalars(select(Pledge.id).where(
        Pledge.status == PS.PENDING.value, Pledge.created_at <= cutoff).order_by(Pledge.id)).all()
    unrefunded = db.session.scalars(select(Pledge.id).where(
        Pledge.status == PS.CANCELLED.value, Pledge.refund_ref.is_(None),
        Pledge.charge_ref.is_not(None)).order_by(Pledge.id)).all()
    db.session.commit()
    summary = {"held": 0, "failed": 0, "still_pending": 0, "refunds_confirmed": 0, "refunds_outstanding": 0,
               "errors": 0}
    for pledge_id in pending:
        try:
            drive_pending(pledge_id)
        except DomainError:
            pass  # declined or too late: the pledge is failed (or still pending), counted below
        except Exception:  # one bad pledge must not stop the others
            db.session.rollback()
            log.exception("pledge %s: reconcile failed", pledge_id)
            summary["errors"] += 1
            continue
        status = db.session.get(Pledge, pledge_id, populate_existing=True).status
        db.session.commit()
        summary[{PS.HELD.value: "held", PS.FAILED.value: "failed"}.get(status, "still_pending")] += 1
    for pledge_id in unrefunded:
        pledge = db.session.get(Pledge, pledge_id)
        attempt = _Attempt.of(pledge)
        charge_ref = pledge.charge_ref
        db.session.commit()
        confirmed = _refund_cancelled(attempt, charge_ref)
        summary["refunds_confirmed" if confirmed else "refunds_outstanding"] += 1
    return summary


# -- cancellation ------------------------------------------------------------------------------

def cancel_pledge(user, pledge_id, *, now=None):
    """The backer takes back a pledge held in escrow; the money is refunded to them.

    Reward pledges: while the campaign is live. Equity commitments: until
    EQUITY_CANCEL_CUTOFF seconds before the deadline. Commits its own steps (books first,
    then the gateway refund: see the module docstring). Cancelling again is harmless.
    """
    now = now or utcnow()
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None:
        raise NotFound(_("There is no such pledge."))
    if pledge.backer_id != getattr(user, "id", None):
        raise PermissionDenied(_("This pledge is not yours to cancel."), code="not_your_pledge")
    try:
        pledge = _lock(pledge_id)
        attempt = _Attempt.of(pledge)
        if pledge.status == PS.CANCELLED.value:
            charge_ref, refund_ref = pledge.charge_ref, pledge.refund_ref
            db.session.commit()
            if refund_ref is None and charge_ref:
                _refund_cancelled(attempt, charge_ref)
            return db.session.get(Pledge, pledge_id)
        if pledge.status != PS.HELD.value:
            raise Conflict(_("This pledge is %(status)s; only a pledge held in escrow can be cancelled.",
                             status=PLEDGE_STATUS_WORDS.get(pledge.status, pledge.status)),
                           code="wrong_state")
        project = db.session.get(Project, attempt.project_id, populate_existing=True)
        close = _cancel_deadline(project)
        margin = timedelta(seconds=current_app.config["EQUITY_CANCEL_CUTOFF"]) if close else timedelta(0)
        moved = db.session.execute(
            update(Project).where(Project.id == project.id, Project.status == ProjectStatus.LIVE.value,
                                  Project.deadline > now + margin)
            .values(pledged_amount=Project.pledged_amount - attempt.amount)
            .execution_options(synchronize_session=False)).rowcount
        if not moved:
            raise Conflict(_cancel_refusal(project, close), code="cancel_window_closed")
        change_tokens.campaign_changed(db.session, project.id)
        if not _has_other_held(attempt):
            db.session.execute(update(Project).where(Project.id == project.id)
                               .values(backer_count=Project.backer_count - 1)
                               .execution_options(synchronize_session=False))
        _release_units(attempt)
        ledger.transfer(ledger.refund_id(attempt.id), ledger.escrow_key(attempt.project_id),
                        ledger.clearing_key(attempt.currency), attempt.amount, attempt.currency,
                        ledger.PLEDGE_REFUND, pledge_id=attempt.id)
        pledge.ended_at = now
        charge_ref = pledge.charge_ref
        transition(pledge, PS.CANCELLED, actor=user, note="cancelled by the backer")
        notifications.pledge_cancelled(pledge)
        db.session.commit()
    except DomainError:
        db.session.rollback()
        raise
    _refund_cancelled(attempt, charge_ref)
    return db.session.get(Pledge, pledge_id)


def _cancel_deadline(project):
    """When cancelling stops for this project (None: the deadline itself)."""
    if project.kind == ProjectKind.EQUITY.value and project.deadline is not None:
        return project.deadline - timedelta(seconds=current_app.config["EQUITY_CANCEL_CUTOFF"])
    return None


def _cancel_refusal(project, close):
    if project.status != ProjectStatus.LIVE.value or close is None:
        return _("The campaign has ended, so this pledge can no longer be cancelled.")
    hours = current_app.config["EQUITY_CANCEL_CUTOFF"] / 3600
    return _("Equity commitments can be cancelled until %(hours)s hours before the campaign's deadline "
             "(%(close)s UTC); that time has passed.", hours=f"{hours:g}", close=f"{close:%Y-%m-%d %H:%M}")


def _refund_cancelled(attempt, charge_ref):
    """Ask the gateway to refund a cancelled pledge; record the refund. True when confirmed."""
    try:
        movement = get_gateway().refund(charge_ref=charge_ref, amount=attempt.amount, currency=attempt.currency,
                                        idempotency_key=refund_key(attempt.id))
    except GatewayError as error:
        log.warning("pledge %s: refund not confirmed (%s); reconcile_pending will retry", attempt.id, error)
        return False
    pledge = _lock(attempt.id)
    if pledge.refund_ref is None:
        pledge.refund_ref = movement.ref
    db.session.commit()
    return True


# -- what the backer sees ----------------------------------------------------------------------

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
    escrow: str  # in_flight | held | released | returned | refund_pending | not_charged
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
    elif pledge.status == PS.HELD.value:
        escrow = "held"
    elif pledge.status == PS.RELEASED.value:
        escrow = "released"
    elif pledge.status in (PS.REFUNDED.value, PS.CANCELLED.value):
        escrow = "returned" if pledge.refund_ref else "refund_pending"
    else:
        escrow = "not_charged" if not pledge.refund_ref else "returned"
    until = _cancel_deadline(project) or project.deadline
    can_cancel = (pledge.status == PS.HELD.value and project.status == ProjectStatus.LIVE.value
                  and until is not None and now < until)
    return Receipt(
        pledge=pledge, project=project, kind="equity" if equity else "reward", status=pledge.status,
        amount=pledge.amount, currency=pledge.currency, tier_title=pledge.tier.title if pledge.tier else None,
        quantity=pledge.quantity, shares=pledge.shares,
        price_per_share=project.equity.price_per_share if equity and project.equity else None,
        reward_amount=pledge.reward_amount, extra_amount=pledge.extra_amount, shipping_fee=pledge.shipping_fee,
        shipping_address=pledge.shipping_address, escrow=escrow, can_cancel=can_cancel,
        cancel_until=until if pledge.status == PS.HELD.value else None,
        failure_message=pledge.failure_message)


def get_pledge_for(user, pledge_id):
    """The pledge, if `user` is its backer or an admin; NotFound otherwise (no hint it exists)."""
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or user is None or not (pledge.backer_id == user.id or getattr(user, "is_admin", False)):
        raise NotFound(_("There is no such pledge."))
    return pledge


def pledges_of(user):
    """The user's pledges, newest first, with their receipts."""
    rows = db.session.scalars(select(Pledge).where(Pledge.backer_id == user.id)
                              .order_by(Pledge.created_at.desc(), Pledge.id.desc())).all()
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
        if complete and profile.currency == project.currency:
            allowance = investors.allowance(user, profile, project.currency, now=now)
    options = tier_options(project, now=now) if project.kind == ProjectKind.REWARD.value else []
    return BackingPage(project=project, open=open_now, tiers=options,
                       ships=any(o.tier.shipping != "none" for o in options), offering=offering,
                       profile_complete=complete, allowance=allowance)
