"""Mail about disputes (chargebacks), to the firm's people and the admins.

Written to the outbox like every other notification (services/notifications.py): in the
caller's transaction, once per dedupe key, so the same dispute looked at again (its
webhooks come more than once) mails each person once.

    opened(dispute, pledge) -> the firm and every admin: a backer disputes a payment; its
                               reason, the amount taken back and the evidence deadline
"""

from flask_babel import gettext as _

from .firm_notices import _to_firm_and_admins


def opened(dispute, pledge):
    project = pledge.project
    return _to_firm_and_admins(
        f"dispute_opened:{dispute.id}",
        project.firm_id,
        "mail/dispute_opened.txt",
        lambda: _("A backer disputes a payment to %(title)s", title=project.title),
        dispute=dispute,
        pledge=pledge,
        project=project,
    )
