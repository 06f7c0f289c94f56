"""A backer changes a held reward pledge while the campaign is live: another tier, quantity,
add-ons, extra or address. The books side; only flushes (workflows/pledge_change.py commits
and makes the processor's calls between its steps, and explains them).

The new terms are priced by the same code as a new pledge (`pledge_pricing.price_reward`).
Units move by their difference only: staying on a limited tier keeps the backer's units (their
place), and only the added units are taken, with the same guarded UPDATE as a new pledge.
"""

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import change_tokens, ledger
from ..domain.vocabulary import status_in_sentence
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..models import Pledge, PledgeChange, PledgeChangeStatus as CS, Project, RewardTier
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectKind, ProjectStatus
from . import add_on_stock, pledge_change_mail, pledges, reward_milestones
from .pledge_pricing import price_reward, require_open

# The priced columns a change replaces (the pledge's terms).
TERMS = (
    "tier_id",
    "quantity",
    "reward_amount",
    "extra_amount",
    "shipping_fee",
    "add_ons",
    "add_ons_amount",
    "amount",
    "shipping_address",
)
OPEN_CHANGES = (CS.PENDING.value, CS.REQUIRES_ACTION.value, CS.REFUND_PENDING.value)


def terms_of(pledge):
    return {key: getattr(pledge, key) for key in TERMS}


def _lines(items):
    return [{"id": item["id"], "quantity": item["quantity"]} for item in items or ()]


def prepare(user, pledge_id, data, *, now, payment_method=None):
    """Lock the pledge, price its new terms, reserve the units they add and record the change.

    `data` holds what changes: `tier_id`, `quantity`, `add_ons`, `extra`, `amount`,
    `shipping_address` (absent: as it is). Returns the PledgeChange: `done` (same amount: applied
    here), `refund_pending` (smaller: applied here, the refund to make) or `pending` (larger:
    the new total to charge). Raises a DomainError having changed nothing the caller keeps
    (the caller rolls back)."""
    get_own_pledge(user, pledge_id)  # NotFound, before any lock
    pledge = pledges.lock(pledge_id)
    if pledge.backer_id != user.id:  # other people's pledges do not exist, as far as you can tell
        raise NotFound(_("There is no such pledge."))
    project = db.session.get(Project, pledge.project_id, populate_existing=True)
    if project is None or project.kind != ProjectKind.REWARD.value:
        raise Conflict(_("Only a reward pledge can be changed."), code="wrong_state")
    if pledge.status != PS.HELD.value:
        raise Conflict(
            _(
                "This pledge is %(status)s; only a pledge held in escrow can be changed.",
                status=status_in_sentence(pledge.status, "pledge"),
            ),
            code="wrong_state",
        )
    require_open(project, now)
    busy = db.session.scalar(
        select(PledgeChange.status).where(PledgeChange.pledge_id == pledge.id, PledgeChange.status.in_(OPEN_CHANGES))
    )
    if busy == CS.REQUIRES_ACTION.value:
        raise Conflict(
            _(
                "An earlier change of this pledge is waiting for you to confirm its payment. Confirm it, or "
                "wait until it expires, then try again."
            ),
            code="busy",
        )
    if busy is not None:
        raise Conflict(_("An earlier change of this pledge is still being paid; try again shortly."), code="busy")
    before = terms_of(pledge)
    tier_id = data.get("tier_id", pledge.tier_id)
    if tier_id is None:  # no reward: the amount (a pledge with no reward keeps it all as "extra")
        amount = data.get("amount", pledge.extra_amount if pledge.tier_id is None else None)
        extra = data.get("extra", 0)
    else:  # a pledge with no reward was all "extra": choosing a reward starts the extra from nothing
        amount, extra = None, data.get("extra", pledge.extra_amount if pledge.tier_id is not None else 0)
    same_tier = tier_id is not None and tier_id == pledge.tier_id
    priced = price_reward(
        pledge.backer_id,
        project,
        tier_id=tier_id,
        quantity=data.get("quantity", pledge.quantity if same_tier else 1),
        amount=amount,
        extra=extra,
        shares=None,
        shipping_address=data.get("shipping_address", pledge.shipping_address),
        now=now,
        add_ons=data.get("add_ons", _lines(pledge.add_ons) if tier_id is not None else None),
        changing=pledge,
    )
    after = {key: priced[key] for key in TERMS}
    if after == before:
        raise ValidationError(_("Nothing to change: this is your pledge as it is."), code="no_change")
    number = (
        db.session.scalar(
            select(func.coalesce(func.max(PledgeChange.number), 0)).where(PledgeChange.pledge_id == pledge.id)
        )
        + 1
    )
    change = PledgeChange(
        pledge_id=pledge.id,
        number=number,
        status=CS.PENDING.value,
        before=before,
        after=after,
        amount_before=pledge.amount,
        amount_after=after["amount"],
        old_charge_ref=pledge.charge_ref,
        payment_method=(payment_method or pledge.payment_method),
        created_at=now,
    )
    db.session.add(change)
    db.session.flush()
    if change.amount_after <= change.amount_before:  # the books first; a refund (if any) after the commit
        apply(change, pledge, now=now, reserve=True)
    else:  # units first (as checkout's step 1); the rest once the new total is paid
        _reserve_added_units(before, after)
    return change


def _reserve_added_units(before, after):
    """Take only what the new terms add (tier row first, then add-ons in id order: the lock order)."""
    if after["tier_id"] is not None:
        added = after["quantity"] - (before["quantity"] if before["tier_id"] == after["tier_id"] else 0)
        if added > 0:
            _take_tier_units(after["tier_id"], added)
    more, _fewer = add_on_stock.difference(before["add_ons"], after["add_ons"])
    add_on_stock.reserve(more)


def _take_tier_units(tier_id, units):
    done = db.session.execute(pledges._RESERVE_TIER_UNITS, {"tier": tier_id, "q": units}).rowcount
    if not done:
        message = _("This reward does not have enough left for this change.")
        raise Conflict(message, code="sold_out", fields={"tier_id": message})


def _give_tier_units(tier_id, units):
    if units > 0:
        db.session.execute(
            update(RewardTier)
            .where(RewardTier.id == tier_id, RewardTier.sold >= units)
            .values(sold=RewardTier.sold - units)
            .execution_options(synchronize_session=False)
        )


def apply(change, pledge, *, now, processor_fee=None, reserve=False):
    """The new terms take effect (pledge locked by the caller): the campaign's total by the
    difference (guarded: still live), escrow by the difference, the units the old terms
    no longer need given back (`reserve`: and first those they add). Conflict
    `project_not_live` when the campaign closed. Locks pledge -> project -> tier -> add-ons."""
    before, after = change.before, change.after
    difference = change.amount_after - change.amount_before
    if pledge.status != PS.HELD.value:
        raise Conflict(_("This pledge is no longer held, so it cannot change."), code="wrong_state")
    totals = db.session.execute(
        update(Project)
        .where(Project.id == pledge.project_id, Project.status == ProjectStatus.LIVE.value, Project.deadline > now)
        .values(pledged_amount=Project.pledged_amount + difference)
        .returning(Project.pledged_amount, Project.goal)
        .execution_options(synchronize_session=False)
    ).first()
    if totals is None:
        raise Conflict(_("The campaign has ended, so this pledge can no longer change."), code="project_not_live")
    # A larger pledge may reach a stretch goal or the goal itself, as a new pledge would; a
    # smaller one unreaches nothing (`total_rose` does nothing for a fall).
    reward_milestones.total_rose(
        pledge.project_id,
        before=totals.pledged_amount - difference,
        after=totals.pledged_amount,
        goal=totals.goal,
        now=now,
    )
    if reserve:  # after the project's row: the lock order of checkout's step 3 and of cancellation
        _reserve_added_units(before, after)
    if before["tier_id"] is not None:
        kept = after["quantity"] if after["tier_id"] == before["tier_id"] else 0
        _give_tier_units(before["tier_id"], before["quantity"] - kept)
    _more, fewer = add_on_stock.difference(before["add_ons"], after["add_ons"])
    add_on_stock.release(fewer)
    if difference:
        grows = difference > 0
        ledger.transfer(
            ledger.change_id(pledge.id, change.number),
            ledger.clearing_key(pledge.currency) if grows else ledger.escrow_key(pledge.project_id),
            ledger.escrow_key(pledge.project_id) if grows else ledger.clearing_key(pledge.currency),
            abs(difference),
            pledge.currency,
            ledger.PLEDGE_INCREASE if grows else ledger.PLEDGE_DECREASE,
            pledge_id=pledge.id,
        )
    book_change_fee(change, pledge.currency, processor_fee)
    change.processor_fee = processor_fee
    for key in TERMS:
        setattr(pledge, key, after[key])
    if change.charge_ref:  # an upgrade: the pledge's money is now in its new charge
        pledge.charge_ref = change.charge_ref
    change.status = CS.REFUND_PENDING.value if difference else CS.DONE.value
    if not difference:
        change.ended_at = now
    pledge_change_mail.pledge_changed(change, pledge)  # leaves with this transaction's commit
    change_tokens.campaign_changed(db.session, pledge.project_id)
    return change


def book_change_fee(change, currency, fee):
    if fee:
        ledger.transfer(
            ledger.change_processor_fee_id(change.pledge_id, change.number),
            ledger.processor_fees_key(currency),
            ledger.clearing_key(currency),
            fee,
            currency,
            ledger.CHANGE_PROCESSOR_FEE,
            pledge_id=change.pledge_id,
        )


def give_back_reserved(change, project_id, *, code, now):
    """An upgrade that will not happen: the units `prepare` took go back; the change failed."""
    before, after = change.before, change.after
    if after["tier_id"] is not None:
        kept = before["quantity"] if before["tier_id"] == after["tier_id"] else 0
        _give_tier_units(after["tier_id"], after["quantity"] - kept)
    more, _fewer = add_on_stock.difference(before["add_ons"], after["add_ons"])
    add_on_stock.release(more)
    change.status = CS.FAILED.value
    change.failure_code = code
    change.ended_at = now
    change_tokens.campaign_changed(db.session, project_id)


def await_action(change, charge_ref):
    """The new total's payment waits for the backer (3-D Secure, a wallet): keep its reference
    (the return page, the webhooks and `resume_changes` ask about it). The units `prepare` took
    stay taken; the pledge keeps its terms until the payment succeeds."""
    change.status = CS.REQUIRES_ACTION.value
    change.charge_ref = charge_ref


def find_change(pledge_id, number):
    return db.session.scalar(
        select(PledgeChange).where(PledgeChange.pledge_id == pledge_id, PledgeChange.number == number)
    )


def waiting_change(pledge_id):
    """The pledge's change whose payment waits for the backer, or None."""
    return db.session.scalar(
        select(PledgeChange).where(PledgeChange.pledge_id == pledge_id, PledgeChange.status == CS.REQUIRES_ACTION.value)
    )


def lock_change(change_id):
    return db.session.scalars(
        select(PledgeChange)
        .where(PledgeChange.id == change_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def get_own_pledge(user, pledge_id):
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.backer_id != getattr(user, "id", None):
        raise NotFound(_("There is no such pledge."))
    return pledge
