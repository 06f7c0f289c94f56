"""The words a person reads for a status, and sentences said in several places.

The keys are the status words stored in the database and shown by the API (the values of
ProjectStatus, PledgeStatus, SettlementStatus, DisputeStatus, and a payout account's
crowdfund/payments/base.py ACCOUNT_STATUSES); they never change here.
A label stands on its own (a badge, a table cell); the words "in a sentence" complete
"This pledge is ...".
"""

from flask_babel import lazy_gettext as _l

PROJECT_STATUS_LABELS = {
    "draft": _l("Draft"),
    "in_review": _l("In review"),
    "changes_requested": _l("Changes requested"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "live": _l("Live"),
    "successful": _l("Successful"),
    "failed": _l("Did not reach its goal"),
    "cancelled": _l("Cancelled"),
    "suspended": _l("Suspended"),
}
PLEDGE_STATUS_LABELS = {
    "pending": _l("Payment pending"),
    "requires_action": _l("Waiting for your payment"),
    "held": _l("In escrow"),
    "released": _l("Released"),
    "refunded": _l("Refunded"),
    "cancelled": _l("Cancelled"),
    "failed": _l("Failed"),
    "disputed": _l("Disputed"),
}
SETTLEMENT_STATUS_LABELS = {
    "pending": _l("Waiting"),
    "running": _l("Running"),
    "paying_out": _l("Paying out"),
    "waiting_for_payout": _l("Waiting for payout"),
    "completed": _l("Completed"),
    "needs_attention": _l("Needs attention"),
}
DISPUTE_STATUS_LABELS = {
    "needs_response": _l("Needs a response"),
    "under_review": _l("Under review"),
    "won": _l("Won"),
    "lost": _l("Lost"),
}
PAYOUT_ACCOUNT_STATUS_LABELS = {
    "pending": _l("Being set up"),
    "verified": _l("Verified"),
    "restricted": _l("Restricted"),
}
LABELS = {
    "project": PROJECT_STATUS_LABELS,
    "pledge": PLEDGE_STATUS_LABELS,
    "settlement": SETTLEMENT_STATUS_LABELS,
    "dispute": DISPUTE_STATUS_LABELS,
    "payout_account": PAYOUT_ACCOUNT_STATUS_LABELS,
}

PROJECT_STATUS_IN_SENTENCE = {
    "draft": _l("a draft"),
    "in_review": _l("in review"),
    "changes_requested": _l("waiting for changes"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "live": _l("live"),
    "successful": _l("successful"),
    "failed": _l("failed"),
    "cancelled": _l("cancelled"),
    "suspended": _l("suspended"),
}
PLEDGE_STATUS_IN_SENTENCE = {
    "pending": _l("pending"),
    "requires_action": _l("waiting for payment"),
    "held": _l("held in escrow"),
    "released": _l("released"),
    "refunded": _l("refunded"),
    "cancelled": _l("cancelled"),
    "failed": _l("failed"),
    "disputed": _l("disputed"),
}
PAYOUT_ACCOUNT_STATUS_IN_SENTENCE = {
    "pending": _l("being set up"),
    "verified": _l("verified"),
    "restricted": _l("restricted"),
}
IN_SENTENCE = {
    "project": PROJECT_STATUS_IN_SENTENCE,
    "pledge": PLEDGE_STATUS_IN_SENTENCE,
    "payout_account": PAYOUT_ACCOUNT_STATUS_IN_SENTENCE,
}


def status_label(status, kind="project"):
    """The label of `status` (a stored word or its enum member); `kind`: a key of LABELS."""
    word = getattr(status, "value", status)
    return LABELS[kind].get(word, word)


def status_in_sentence(status, kind):
    """`status` as it reads after "This pledge is"; `kind`: a key of IN_SENTENCE."""
    word = getattr(status, "value", status)
    return IN_SENTENCE[kind].get(word, word)


def N_(text):
    """Marks `text` for the catalogue; it is translated where it is shown."""
    return text


# A payment that succeeded after the campaign closed (workflows/checkout.py): the pledge is refused
# and the charge refunded. Kept on the pledge in these words; shown translated.
LATE_PLEDGE = N_(
    "The campaign closed before your payment went through, so your pledge was not accepted. "
    "The charge has been refunded to you."
)
# ... and when the refund's answer did not come: reconcile refunds it.
LATE_PLEDGE_REFUND_PENDING = N_(
    "The campaign closed before your payment went through, so your pledge was not "
    "accepted. Any charge will be refunded to you automatically."
)
