"""Email notifications, written to the outbox in the caller's transaction.

Call these from a service, in the same transaction as the event they announce. Each one
only adds `OutboxMessage` rows and flushes: if the caller's transaction rolls back, no
mail exists; once it commits, the mail is delivered (`after_commit.send_mail`: after the
request's commit, or by the next `deliver_mail` run). Each message has a `dedupe_key`, so
announcing the same event twice (a retried job, a replayed webhook) queues it once.

    pledge_receipt(pledge)                  -> the backer: pledge held in escrow, amount, reward
    pledge_cancelled(pledge)                -> the backer: cancelled, money returned
    campaign_succeeded(project, pledges=None) -> each backer with a held or released pledge
                                               (one message per backer, listing all their
                                               pledges); `pledges` (a batch) picks the backers
    campaign_failed_refunded(pledge)        -> the backer: campaign failed/cancelled/suspended,
                                               this pledge's money was returned
    campaign_failed_refunded_many(pledges)  -> the same for a settlement batch, in bulk
    payout_sent(settlement)                 -> every member of the firm: the payout was sent
    project_update(update, backer_ids)      -> each of those backers: the founder's update
                                               (workflows.announcements picks them)
    review_decision(project, review)        -> every member of the firm: approve / request
                                               changes / reject, with the reviewer's note
    password_reset(user, link, ...)         -> the account: a single-use link to set a new password
    verify_email(user, link, ...)           -> the account's (new) address: the link that confirms it

Every function returns the list of messages it newly queued (empty when all of them were
queued before). The settlement notifications work in bulk (`mail_outbox._queue_many`): a batch of 500
pledges costs one SELECT of the dedupe keys already queued, one SELECT of the recipients and
one batched INSERT, not three statements and a savepoint per message. Bodies are plain text
from `templates/mail/*.txt`, in the recipient's language (`user.locale`, else the default)
with amounts formatted for that locale.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from ..database import one_of
from ..domain.funding_models import kept_below_goal
from ..extensions import db
from ..models import Pledge, PledgeStatus, Project
from . import update_mail
from .mail_outbox import _queue_many, _queue_one, _queue_to_firm, _users

# ---------------------------------------------------------------------------- messages


def pledge_receipt(pledge):
    backer, project = pledge.backer, pledge.project
    return _queue_one(
        f"pledge_receipt:{pledge.id}",
        backer,
        "mail/pledge_receipt.txt",
        lambda: _("Your pledge to %(title)s", title=project.title),
        pledge=pledge,
        project=project,
    )


def pledge_cancelled(pledge):
    backer, project = pledge.backer, pledge.project
    return _queue_one(
        f"pledge_cancelled:{pledge.id}",
        backer,
        "mail/pledge_cancelled.txt",
        lambda: _("Your pledge to %(title)s was cancelled", title=project.title),
        pledge=pledge,
        project=project,
    )


def pledge_not_completed(pledge):
    """A payment that waited for the backer (3-D Secure, a wallet) ended without money taken."""
    backer, project = pledge.backer, pledge.project
    return _queue_one(
        f"pledge_not_completed:{pledge.id}",
        backer,
        "mail/pledge_not_completed.txt",
        lambda: _("Your pledge to %(title)s was not completed", title=project.title),
        pledge=pledge,
        project=project,
    )


def books_differ(admins, problems, *, day):
    """Daily reconciliation found differences between our ledger and the processor's books."""
    for admin in admins:
        _queue_one(
            f"books_differ:{day.isoformat()}:{admin.id}",
            admin,
            "mail/books_differ.txt",
            lambda: _("The ledger differs from the payment processor's books"),
            problems=problems[:50],
            more=max(len(problems) - 50, 0),
            day=day,
        )


def campaign_succeeded(project, pledges=None):
    """One message per backer, listing all their held or released pledges to `project`.

    `pledges` (a settlement batch) picks the backers; their pledges in other batches are
    listed too, or a backer whose pledges fell in two batches would be told of only some."""
    statuses = (PledgeStatus.HELD.value, PledgeStatus.RELEASED.value)
    query = select(Pledge).where(Pledge.project_id == project.id, Pledge.status.in_(statuses))
    if pledges is not None:
        backer_ids = sorted({p.backer_id for p in pledges if p.status in statuses})
        if not backer_ids:
            return []
        query = query.where(one_of(Pledge.backer_id, backer_ids))
    pledges = db.session.scalars(query.order_by(Pledge.id)).all()
    by_backer = {}
    for pledge in pledges:
        by_backer.setdefault(pledge.backer_id, []).append(pledge)
    users = _users(by_backer)

    below_goal = kept_below_goal(project)  # flexible funding: the firm keeps what was raised

    def subject():
        if below_goal:
            return _("%(title)s has ended: the money raised goes to the firm", title=project.title)
        return _("%(title)s reached its goal", title=project.title)

    return _queue_many(
        [
            (
                f"campaign_succeeded:{project.id}:{backer_id}",
                users[backer_id],
                "mail/campaign_succeeded.txt",
                subject,
                {
                    "project": project,
                    "pledges": own,
                    "total": sum(p.amount for p in own),
                    "currency": own[0].currency,
                    "below_goal": below_goal,
                },
            )
            for backer_id, own in by_backer.items()
        ]
    )


def campaign_failed_refunded(pledge):
    return campaign_failed_refunded_many([pledge])


def campaign_failed_refunded_many(pledges):
    """One message per pledge returned by a settlement batch (see `campaign_failed_refunded`).

    `pledges` are Pledges or rows with their id, project_id, backer_id, amount and currency.
    """
    users = _users({p.backer_id for p in pledges})
    projects, subjects, items = {}, {}, []
    for pledge in pledges:
        project = projects.get(pledge.project_id) or projects.setdefault(
            pledge.project_id, db.session.get(Project, pledge.project_id)
        )
        subject = subjects.setdefault(
            project.id, lambda project=project: _("Your pledge to %(title)s was returned", title=project.title)
        )
        items.append(
            (
                f"campaign_refunded:{pledge.id}",
                users[pledge.backer_id],
                "mail/campaign_failed_refunded.txt",
                subject,
                {"pledge": pledge, "project": project},
            )
        )
    return _queue_many(items)


def payout_sent(settlement):
    project = settlement.project
    return _queue_to_firm(
        f"payout_sent:{settlement.id}",
        project.firm_id,
        "mail/payout_sent.txt",
        lambda: _("Payout sent for %(title)s", title=project.title),
        settlement=settlement,
        project=project,
    )


def project_update(update, backer_ids):
    """The founder's `update`, to each of `backer_ids` (one message each, queued in bulk)."""
    project, users = update.project, _users(backer_ids)

    def subject():
        return _("News from %(project)s: %(title)s", project=project.title, title=update.title)

    text = update_mail.plain_text(update)  # the Markdown as readable text, not as typed
    queued = _queue_many(
        [
            (
                f"project_update:{update.id}:{backer_id}",
                users[backer_id],
                "mail/project_update.txt",
                subject,
                {"project": project, "update": update, "update_text": text},
            )
            for backer_id in backer_ids
        ],
        kind="project_updates",  # backers may turn these off (services/mail_choices.py)
    )
    update_mail.add_html(update, text, queued)  # and the update as formatted, beside the text
    return queued


REVIEW_SUBJECTS = {
    "approve": lambda title: _("%(title)s was approved", title=title),
    "request_changes": lambda title: _("Changes requested for %(title)s", title=title),
    "reject": lambda title: _("%(title)s was not approved", title=title),
}


def review_decision(project, review):
    subject = REVIEW_SUBJECTS.get(review.decision)
    if subject is None:
        raise ValueError(f"Unknown review decision {review.decision!r}")
    return _queue_to_firm(
        f"review_decision:{review.id}",
        project.firm_id,
        "mail/review_decision.txt",
        lambda: subject(project.title),
        project=project,
        review=review,
    )


def password_reset(user, link, *, ttl_minutes, dedupe_key, in_locale=None):
    """The link that sets a new password (services/password_reset.py)."""
    return _queue_one(
        dedupe_key,
        user,
        "mail/password_reset.txt",
        lambda: _("Reset your Crowdfund password"),
        in_locale=in_locale,
        link=link,
        ttl_minutes=ttl_minutes,
    )


def verify_email(user, link, *, dedupe_key, in_locale=None):
    """The link that confirms the account's address (services/email_verification.py)."""
    return _queue_one(
        dedupe_key,
        user,
        "mail/verify_email.txt",
        lambda: _("Confirm your email address"),
        in_locale=in_locale,
        link=link,
    )
