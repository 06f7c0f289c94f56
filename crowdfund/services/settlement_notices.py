"""Mail about money that did not go the plain way: a reserve paid late, a refund that failed.

Written to the outbox like every other notification (services/notifications.py): in the
caller's transaction, once per dedupe key, so a replayed webhook or a retried job mails once.

    reserve_sent(settlement)       -> every member of the firm: the reserve held back from
                                      the payout was paid out too
    refund_failed(pledge, attempt) -> the backer: their refund did not go through, we are on it
"""

from flask_babel import gettext as _

from .mail_outbox import _queue_one, _queue_to_firm


def reserve_sent(settlement):
    project = settlement.project
    return _queue_to_firm(
        f"reserve_sent:{settlement.id}",
        project.firm_id,
        "mail/reserve_sent.txt",
        lambda: _("The reserve for %(title)s was paid out", title=project.title),
        settlement=settlement,
        project=project,
    )


def refund_failed(pledge, attempt, amount=None):
    """One message per failed attempt: a retry that fails again is news again. `amount`: what
    the refund was of (a released pledge's held remainder), if not the whole pledge."""
    project = pledge.project
    return _queue_one(
        f"refund_failed:{pledge.id}:{attempt}",
        pledge.backer,
        "mail/refund_failed.txt",
        lambda: _("Your refund for %(title)s did not go through", title=project.title),
        pledge=pledge,
        project=project,
        refund_amount=pledge.amount if amount is None else amount,
    )
