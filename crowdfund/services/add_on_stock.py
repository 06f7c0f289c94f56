"""Add-on stock: the same guarded atomic UPDATE as the tiers' (services/pledges.py), so an
add-on is never oversold however many backers take the last ones at once.

`sold = sold + q WHERE quantity IS NULL OR sold + q <= quantity`: the row's lock serialises
the backers of one add-on, and no row matched means there is not enough left. Add-on rows
are always locked in id order, after the tier's row (the lock order of
workflows/checkout.py), so two pledges can never wait on each other.
"""

import logging

from flask_babel import gettext as _, ngettext
from sqlalchemy import bindparam, or_, select, update

from ..errors import Conflict
from ..extensions import db
from ..models import RewardAddOn

log = logging.getLogger(__name__)

_RESERVE = (
    update(RewardAddOn)
    .where(
        RewardAddOn.id == bindparam("add_on"),
        or_(RewardAddOn.quantity.is_(None), RewardAddOn.sold + bindparam("q") <= RewardAddOn.quantity),
    )
    .values(sold=RewardAddOn.sold + bindparam("q"))
    .execution_options(synchronize_session=False)
)
_RELEASE = (
    update(RewardAddOn)
    .where(RewardAddOn.id == bindparam("add_on"), RewardAddOn.sold >= bindparam("q"))
    .values(sold=RewardAddOn.sold - bindparam("q"))
    .execution_options(synchronize_session=False)
)


def counts(items):
    """{add-on id: units} of a pledge's `add_ons` lines (None: none)."""
    return {int(item["id"]): int(item["quantity"]) for item in items or ()}


def reserve(items):
    """Take the units of each line; Conflict `sold_out` naming `add_ons` when one has too few."""
    for add_on_id, quantity in sorted(counts(items).items()):
        if quantity <= 0:
            continue
        if not db.session.execute(_RESERVE, {"add_on": add_on_id, "q": quantity}).rowcount:
            row = db.session.execute(
                select(RewardAddOn.title, RewardAddOn.quantity - RewardAddOn.sold).where(RewardAddOn.id == add_on_id)
            ).one()
            left = max(row[1] or 0, 0)
            message = (
                _("The add-on “%(title)s” is sold out.", title=row[0])
                if not left
                else ngettext(
                    "Only %(num)d of the add-on “%(title)s” is left.",
                    "Only %(num)d of the add-on “%(title)s” are left.",
                    left,
                    title=row[0],
                )
            )
            raise Conflict(message, code="sold_out", fields={"add_ons": message})


def release(items):
    """Give back the units of each line (a failed, cancelled or changed pledge)."""
    for add_on_id, quantity in sorted(counts(items).items()):
        if quantity <= 0:
            continue
        if not db.session.execute(_RELEASE, {"add_on": add_on_id, "q": quantity}).rowcount:  # pragma: no cover
            log.error("add-on %s: could not release %s units; its counter needs a look", add_on_id, quantity)


def difference(before, after):
    """(to reserve, to release) as lines, moving a pledge from `before` to `after` add-ons:
    only the difference moves, so a backer keeps the units they already have."""
    old, new = counts(before), counts(after)
    more = [{"id": i, "quantity": new.get(i, 0) - old.get(i, 0)} for i in new if new.get(i, 0) > old.get(i, 0)]
    fewer = [{"id": i, "quantity": old[i] - new.get(i, 0)} for i in old if old[i] > new.get(i, 0)]
    return more, fewer
