"""Mail about a firm's payout account and its locked details, to its people and the admins.

Written to the outbox like every other notification (services/notifications.py): in the
caller's transaction, once per dedupe key, so a settlement retried every few minutes while
it waits for an account mails each person once.

    payout_waiting(settlement, project, status) -> the firm and every admin: a payout waits
                                                   for a verified payout account
    change_requested(request, changes)          -> the firm and every admin: locked details
                                                   were asked to change
    change_decided(request, changes)            -> the firm and every admin: approved or rejected
"""

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import User
from .mail_outbox import _queue_one, _queue_to_firm


def _queue_to_admins(key_prefix, template, subject, **context):
    admins = db.session.scalars(select(User).where(User.is_admin.is_(True)).order_by(User.id)).all()
    queued = []
    for admin in admins:
        queued += _queue_one(f"{key_prefix}:{admin.id}", admin, template, subject, **context)
    return queued


def _to_firm_and_admins(key_prefix, firm_id, template, subject, **context):
    # One key per person: an admin who is also one of the firm's people is mailed once.
    return _queue_to_firm(key_prefix, firm_id, template, subject, **context) + _queue_to_admins(
        key_prefix, template, subject, **context
    )


def payout_waiting(settlement, project, status):
    return _to_firm_and_admins(
        f"payout_waiting:{settlement.id}",
        project.firm_id,
        "mail/payout_waiting.txt",
        lambda: _("The payout for %(title)s is waiting for a payout account", title=project.title),
        settlement=settlement,
        project=project,
        status=status,
    )


def change_requested(request, changes):
    """`changes`: firm_changes.describe(request) (label, old, new of each field asked)."""
    firm = request.firm
    return _to_firm_and_admins(
        f"firm_change_requested:{request.id}",
        firm.id,
        "mail/firm_change_requested.txt",
        lambda: _("A change of %(firm)s's details waits for approval", firm=firm.legal_name),
        request=request,
        firm=firm,
        changes=changes,
    )


def change_decided(request, changes):
    firm = request.firm
    subject = (
        (lambda: _("The change of %(firm)s's details was approved", firm=firm.legal_name))
        if request.status == "approved"
        else (lambda: _("The change of %(firm)s's details was rejected", firm=firm.legal_name))
    )
    return _to_firm_and_admins(
        f"firm_change_decided:{request.id}",
        firm.id,
        "mail/firm_change_decided.txt",
        subject,
        request=request,
        firm=firm,
        changes=changes,
    )
