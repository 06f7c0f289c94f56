"""The steps of a pledge's life in our own books. Each only flushes; the workflows commit.

`crowdfund/workflows/checkout.py` explains how these steps sit around the processor's
calls, in which transaction each runs and in which order rows are locked. In short:

- `reserve` (step 1): lock the backer, validate and price (`pledge_pricing`), insert the
  pending pledge, and last reserve its units with a guarded UPDATE;
- `await_action`, `hold`, `fail` (step 3, in `pledge_outcomes`): what the processor
  answered, applied to a pledge locked with `lock`;
- `cancel_in_books` (in `pledge_cancellation`): the books side of a backer's cancellation.
"""

import logging
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _, ngettext
from sqlalchemy import bindparam, or_, select, update

from .. import change_tokens
from ..domain.clock import utcnow
from ..errors import Conflict, NotFound, PaymentDeclined, ValidationError
from ..extensions import db
from ..models import EquityOffering, Pledge, Project, RewardTier, User
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectKind
from . import add_on_stock, offerings, own_project
from .pledge_pricing import price_equity, price_reward, require_open

log = logging.getLogger(__name__)

# A pledge whose payment has not ended yet: the processor may still answer about it.
OPEN_STATUSES = (PS.PENDING.value, PS.REQUIRES_ACTION.value)

# The statements every pledge runs, built once. Building each statement and its cache key on
# every call was a fifth of a pledge's Python calls in the web process; the SQL is the same.
_NO_SYNC = {"synchronize_session": False}
# Step 1: lock the backer (one attempt at a time), look for this attempt's key, and ask
# whether the backer is one of the campaign's own people.
_BACKER_AND_ATTEMPT = (
    select(User.id, Pledge, own_project.owns(User.id, bindparam("project")).label("is_own"))
    .select_from(User)
    .outerjoin(Pledge, (Pledge.backer_id == User.id) & (Pledge.idempotency_key == bindparam("key")))
    .where(User.id == bindparam("backer"))
    .with_for_update(of=User, key_share=True)
)
_RESERVE_TIER_UNITS = (
    update(RewardTier)
    .where(
        RewardTier.id == bindparam("tier"),
        or_(RewardTier.quantity.is_(None), RewardTier.sold + bindparam("q") <= RewardTier.quantity),
    )
    .values(sold=RewardTier.sold + bindparam("q"))
    .execution_options(**_NO_SYNC)
)


@dataclass(frozen=True)
class Attempt:
    """What the processor's steps need, read while the data was fresh (no lazy loads later)."""

    id: int
    backer_id: int
    project_id: int
    amount: int
    currency: str
    payment_method: str
    tier_id: int | None
    quantity: int
    shares: int | None
    add_ons: tuple = ()  # ((add-on id, units), ...): what step 1 reserved of them

    @classmethod
    def of(cls, pledge):
        return cls(
            pledge.id,
            pledge.backer_id,
            pledge.project_id,
            pledge.amount,
            pledge.currency,
            pledge.payment_method,
            pledge.tier_id,
            pledge.quantity,
            pledge.shares,
            tuple(sorted(add_on_stock.counts(pledge.add_ons).items())),
        )


def charge_key(pledge_id):
    return f"pledge-{pledge_id}"


def refund_key(pledge_id):
    return f"pledge-{pledge_id}-refund"


def cancel_key(pledge_id):
    return f"pledge-{pledge_id}-cancel"


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
    return db.session.scalar(
        select(Pledge).where(Pledge.backer_id == backer_id, Pledge.idempotency_key == idempotency_key)
    )


def require_same_request(existing, project_id, request_fingerprint):
    """The key of `existing` sent again: a replay of the same request, or Conflict 409
    `idempotency_key_reused` (another campaign, or, both fingerprinted, another body)."""
    if existing.project_id != project_id:
        raise Conflict(
            _(
                "This idempotency key was already used for a pledge to another campaign; "
                "use a new key for each attempt."
            ),
            code="idempotency_key_reused",
        )
    if request_fingerprint and existing.request_fingerprint and request_fingerprint != existing.request_fingerprint:
        raise Conflict(
            _(
                "This idempotency key was already used with a different request; send the same request "
                "again to get its pledge, or use a new key for a new attempt."
            ),
            code="idempotency_key_reused",
        )


# -- step 1 -------------------------------------------------------------------------------------


def reserve(
    backer_id,
    project_id,
    *,
    idempotency_key,
    payment_method,
    tier_id,
    quantity,
    amount,
    extra,
    shares,
    shipping_address,
    request_fingerprint=None,
    acknowledge_risks=False,
    add_ons=None,
    acknowledge_large_investment=False,
):
    """Validate, price, insert the pending pledge and reserve its units (flush only).

    Returns an Attempt for a new pledge, or the earlier Pledge made with this key (nothing
    written; `require_same_request` first). Raises a DomainError on a refusal, and
    IntegrityError when the same attempt was inserted concurrently (the workflow rolls back
    and returns theirs)."""
    if not isinstance(idempotency_key, str) or not 8 <= len(idempotency_key.strip()) <= 100:
        raise ValidationError(
            _("This form has expired. Please reload the page and try again."), code="missing_idempotency_key"
        )
    idempotency_key = idempotency_key.strip()
    # One attempt at a time per backer: the limits below read the backer's other pledges.
    # The same statement looks for an earlier attempt with this key.
    step_one = db.session.execute(
        _BACKER_AND_ATTEMPT, {"key": idempotency_key, "backer": backer_id, "project": project_id}
    ).one()
    existing = step_one.Pledge
    if existing is not None:
        require_same_request(existing, project_id, request_fingerprint)
        return existing
    if not isinstance(payment_method, str) or not payment_method.strip() or len(payment_method) > 100:
        raise ValidationError(
            _("Choose how you want to pay."),
            code="payment_method_required",
            fields={"payment_method": _("Choose how you want to pay.")},
        )
    now = utcnow()
    # Usually loaded by the caller in this transaction already (no query then). Its status
    # may be a moment old: step 3's guarded UPDATE is what a closing campaign cannot slip past.
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound(_("There is no such campaign."))
    require_open(project, now)
    if step_one.is_own:
        own_project.refuse(project)  # 403 own_project: no shill pledging
    if project.kind == ProjectKind.EQUITY.value:
        if add_ons:
            message = _("This is an equity campaign; it has no add-ons.")
            raise ValidationError(message, fields={"add_ons": message})
        priced = price_equity(
            backer_id,
            project,
            shares=shares,
            tier_id=tier_id,
            amount=amount,
            extra=extra,
            now=now,
            acknowledge_risks=acknowledge_risks,
            acknowledge_large_investment=acknowledge_large_investment,
        )
    else:
        priced = price_reward(
            backer_id,
            project,
            tier_id=tier_id,
            quantity=quantity,
            amount=amount,
            extra=extra,
            shares=shares,
            shipping_address=shipping_address,
            now=now,
            add_ons=add_ons,
        )
    pledge = Pledge(
        project_id=project.id,
        backer_id=backer_id,
        status=PS.PENDING.value,
        idempotency_key=idempotency_key,
        request_fingerprint=request_fingerprint,
        currency=project.currency,
        payment_method=payment_method.strip(),
        created_at=now,
        **priced,
    )
    db.session.add(pledge)
    db.session.flush()
    # Last, just before COMMIT: every backer of the tier queues on its row's lock.
    _reserve_units(project, priced)
    if priced["shares"] is not None:
        offerings.require_investor_room(project, backer_id)  # after the offering's row is locked
    return Attempt.of(pledge)


def _reserve_units(project, priced):
    """The guarded UPDATE that makes overselling impossible, even with many at once."""
    if priced["tier_id"] is not None:
        done = db.session.execute(_RESERVE_TIER_UNITS, {"tier": priced["tier_id"], "q": priced["quantity"]}).rowcount
        if not done:
            left = db.session.scalar(
                select(RewardTier.quantity - RewardTier.sold).where(RewardTier.id == priced["tier_id"])
            )
            message = (
                _("This reward is sold out.")
                if not left
                else ngettext("Only %(num)d of this reward is left.", "Only %(num)d of this reward are left.", left)
            )
            raise Conflict(message, code="sold_out", fields={"quantity": message})
        add_on_stock.reserve(priced.get("add_ons"))  # after the tier's row: the lock order
        change_tokens.campaign_changed(db.session, project.id)  # units left, on its page
    elif priced["shares"] is not None:
        s = priced["shares"]
        done = db.session.execute(
            update(EquityOffering)
            .where(
                EquityOffering.project_id == project.id,
                EquityOffering.shares_committed + s <= EquityOffering.shares_offered,
            )
            .values(shares_committed=EquityOffering.shares_committed + s)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not done:
            left = db.session.scalar(
                select(EquityOffering.shares_offered - EquityOffering.shares_committed).where(
                    EquityOffering.project_id == project.id
                )
            )
            message = _("Every share on offer is taken.") if not left else _("Only %(num)d shares are left.", num=left)
            raise Conflict(message, code="sold_out", fields={"shares": message})
        change_tokens.campaign_changed(db.session, project.id)


def release_units(attempt):
    """Give back what step 1 reserved (a failed or cancelled pledge)."""
    if attempt.add_ons:
        add_on_stock.release([{"id": i, "quantity": q} for i, q in attempt.add_ons])
    if attempt.tier_id is not None:
        done = db.session.execute(
            update(RewardTier)
            .where(RewardTier.id == attempt.tier_id, RewardTier.sold >= attempt.quantity)
            .values(sold=RewardTier.sold - attempt.quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
    elif attempt.shares is not None:
        done = db.session.execute(
            update(EquityOffering)
            .where(EquityOffering.project_id == attempt.project_id, EquityOffering.shares_committed >= attempt.shares)
            .values(shares_committed=EquityOffering.shares_committed - attempt.shares)
            .execution_options(synchronize_session=False)
        ).rowcount
    else:
        return
    if not done:  # pragma: no cover - would mean the counters were already wrong
        log.error("pledge %s: could not release its reserved units; counters need a look", attempt.id)
    change_tokens.campaign_changed(db.session, attempt.project_id)


# -- the pledge's lock: step 3 (pledge_outcomes.py) and every later change to a pledge ------------


def lock(pledge_id):
    return db.session.scalars(
        select(Pledge).where(Pledge.id == pledge_id).with_for_update().execution_options(populate_existing=True)
    ).one()
