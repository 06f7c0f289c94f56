"""The mail that tells a backer their pledge changed (workflows/pledge_change.py).

Queued by `pledge_changes.apply`, in the transaction that gives the pledge its new terms, so it
leaves once that commits (and never for a change that was refused, declined or rolled back).
It says what changed (reward, quantity, add-ons, address) and what the money did: for a
larger pledge, the new total charged and the earlier payment refunded in full (what the
backer's card statement will show); for a smaller one, the difference refunded. Mail that
always goes (no kind): it carries the link to the mail choices, as a receipt does.

`change_not_completed`: a larger total the backer never confirmed with their bank or wallet was
cancelled when it expired (`resume_changes`); the pledge stays as it was.
"""

from flask_babel import gettext as _

from ..extensions import db
from ..models import RewardTier
from .mail_choices import external_url
from .mail_outbox import _queue_one


def _tier_title(tier_id):
    if tier_id is None:
        return None
    tier = db.session.get(RewardTier, tier_id)
    return tier.title if tier is not None else None


def _add_on_lines(items):
    return [(item.get("title") or f"#{item['id']}", item["quantity"]) for item in items or ()]


def what_changed(before, after):
    """{what: (before, after)} for each term the backer would see changed."""
    changed = {}
    if before["tier_id"] != after["tier_id"]:
        changed["reward"] = (_tier_title(before["tier_id"]), _tier_title(after["tier_id"]))
    if None not in (before["tier_id"], after["tier_id"]) and before["quantity"] != after["quantity"]:
        changed["quantity"] = (before["quantity"], after["quantity"])
    if _add_on_lines(before["add_ons"]) != _add_on_lines(after["add_ons"]):
        changed["add_ons"] = (_add_on_lines(before["add_ons"]), _add_on_lines(after["add_ons"]))
    if before["extra_amount"] != after["extra_amount"]:
        changed["extra"] = (before["extra_amount"], after["extra_amount"])
    if before["shipping_fee"] != after["shipping_fee"]:
        changed["shipping_fee"] = (before["shipping_fee"], after["shipping_fee"])
    if (before["shipping_address"] or None) != (after["shipping_address"] or None):
        changed["address"] = (before["shipping_address"], after["shipping_address"])
    return changed


def pledge_changed(change, pledge):
    """Queue the backer's mail about `change` (its new terms applied to `pledge`)."""
    project = pledge.project
    return _queue_one(
        f"pledge_changed:{pledge.id}:{change.number}",
        pledge.backer,
        "mail/pledge_changed.txt",
        lambda: _("Your pledge to %(title)s was changed", title=project.title),
        pledge=pledge,
        project=project,
        change=change,
        changed=what_changed(change.before, change.after),
        difference=change.amount_after - change.amount_before,
        link=external_url("pledges.receipt", pledge_id=pledge.id),
    )


def change_not_completed(change, pledge):
    """Queue the backer's mail about a larger pledge whose payment they never confirmed (their
    bank or wallet): the change was dropped, nothing taken, the pledge as it was."""
    project = pledge.project
    return _queue_one(
        f"pledge_change_not_completed:{pledge.id}:{change.number}",
        pledge.backer,
        "mail/pledge_change_not_completed.txt",
        lambda: _("The change of your pledge to %(title)s was not made", title=project.title),
        pledge=pledge,
        project=project,
        change=change,
        link=external_url("pledges.receipt", pledge_id=pledge.id),
    )
