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
queued before). The settlement notifications work in bulk (`_queue_many`): a batch of 500
pledges costs one SELECT of the dedupe keys already queued, one SELECT of the recipients and
one batched INSERT, not three statements and a savepoint per message. Bodies are plain text
from `templates/mail/*.txt`, in the recipient's language (`user.locale`, else the default)
with amounts formatted for that locale.
"""

from datetime import timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from flask import current_app, render_template
from flask_babel import force_locale, get_translations, gettext as _
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import after_commit
from ..database import bulk_insert, insert_new_returning, one_of
from ..domain.clock import utcnow
from ..domain.money import format_money
from ..extensions import db
from ..models import FirmMember, OutboxMessage, Pledge, PledgeStatus, Project, User


@event.listens_for(Session, "after_flush")
def _note_queued_mail(session, _flush_context):
    if any(isinstance(obj, OutboxMessage) for obj in session.new):
        after_commit.send_mail(session)


def _mark_queued():
    """For mail written with a Core INSERT: no ORM object was flushed, so say so."""
    after_commit.send_mail()


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

    def subject():
        return _("%(title)s reached its goal", title=project.title)

    return _queue_many(
        [
            (
                f"campaign_succeeded:{project.id}:{backer_id}",
                users[backer_id],
                "mail/campaign_succeeded.txt",
                subject,
                {"project": project, "pledges": own, "total": sum(p.amount for p in own), "currency": own[0].currency},
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

    return _queue_many(
        [
            (
                f"project_update:{update.id}:{backer_id}",
                users[backer_id],
                "mail/project_update.txt",
                subject,
                {"project": project, "update": update},
            )
            for backer_id in backer_ids
        ]
    )


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


# ---------------------------------------------------------------------------- machinery


def _queue_to_firm(key_prefix, firm_id, template, subject, **context):
    members = db.session.scalars(
        select(User)
        .join(FirmMember, FirmMember.user_id == User.id)
        .where(FirmMember.firm_id == firm_id)
        .order_by(User.id)
    ).all()
    queued = []
    for user in members:
        queued += _queue_one(f"{key_prefix}:{user.id}", user, template, subject, **context)
    return queued


def _queue_one(dedupe_key, user, template, subject, *, in_locale=None, **context):
    """Queue one message for `user` unless `dedupe_key` is already in the outbox (in
    `in_locale` when given, else in the recipient's language)."""
    locale = in_locale or recipient_locale(user)
    with force_locale(locale):
        helpers = _Helpers(locale, user)
        subject_text = " ".join(str(subject()).split())[:300]
        body = render_template(template, user=user, fmt=helpers, **context)
    # ON CONFLICT DO NOTHING: a key queued before (a retried job, or a concurrent transaction
    # that got there first) writes nothing and returns no row, without spoiling the
    # caller's transaction.
    db.session.flush()
    written = db.session.scalars(
        insert_new_returning(OutboxMessage, "dedupe_key", OutboxMessage),
        [
            {
                "dedupe_key": dedupe_key,
                "to_address": user.email,
                "subject": subject_text,
                "body_text": body.strip() + "\n",
                "created_at": utcnow(),
                "attempts": 0,
            }
        ],
    ).all()
    if written:
        _mark_queued()
    return written


class Queued(NamedTuple):
    """A message `_queue_many` wrote (with one INSERT, so no ORM object stands for it)."""

    dedupe_key: str
    to_address: str
    subject: str
    body_text: str


def _users(ids):
    """{id: row with the columns a message needs}, in one query (not one lazy load per pledge)."""
    ids = sorted(set(ids))
    found = {}
    for start in range(0, len(ids), 1000):
        for row in db.session.execute(
            select(User.id, User.email, User.name, User.locale, User.timezone).where(
                one_of(User.id, ids[start : start + 1000])
            )
        ):
            found[row.id] = row
    return found


def _existing_keys(keys):
    found = set()
    for start in range(0, len(keys), 1000):
        found.update(
            db.session.scalars(
                select(OutboxMessage.dedupe_key).where(one_of(OutboxMessage.dedupe_key, keys[start : start + 1000]))
            )
        )
    return found


def _queue_many(items):
    """`_queue_one` for many messages at once: items are (dedupe_key, user, template, subject,
    context). One SELECT finds the keys already queued; the rest are rendered (grouped by
    language, with that language's catalogue looked up once) and written with one batched
    INSERT in a savepoint. If a concurrent transaction queued one of them meanwhile, the
    savepoint is rolled back and each goes through `_queue_one`. Returns `Queued` records."""
    if not items:
        return []
    seen = _existing_keys([item[0] for item in items])
    todo = []
    for item in items:
        if item[0] not in seen:
            seen.add(item[0])
            todo.append(item)
    by_locale = {}
    for index, item in enumerate(todo):
        by_locale.setdefault(recipient_locale(item[1]), []).append(index)
    messages = [None] * len(todo)
    # Rendered straight from the Jinja environment, without the request-time context
    # processors `render_template` runs: these mail templates use only what they are given.
    templates = _Templates(current_app.jinja_env)
    for locale, indexes in by_locale.items():
        with force_locale(locale):
            translation, subjects = _jinja_translation(get_translations()), {}
            for index in indexes:
                dedupe_key, user, template, subject, context = todo[index]
                if subject not in subjects:  # the same subject function: the same words (per language)
                    subjects[subject] = " ".join(str(subject()).split())[:300]
                body = templates.render(
                    template, {**translation, "user": user, "fmt": _Helpers(locale, user), **context}
                )
                messages[index] = Queued(dedupe_key, user.email, subjects[subject], body.strip() + "\n")
    if not messages:
        return []
    now = utcnow()
    try:
        with db.session.begin_nested():
            bulk_insert(
                db.session,
                OutboxMessage.__table__,
                [
                    {
                        "dedupe_key": m.dedupe_key,
                        "to_address": m.to_address,
                        "subject": m.subject,
                        "body_text": m.body_text,
                        "created_at": now,
                        "attempts": 0,
                    }
                    for m in messages
                ],
            )
    except IntegrityError:
        queued = []
        for dedupe_key, user, template, subject, context in todo:
            queued += _queue_one(dedupe_key, db.session.get(User, user.id), template, subject, **context)
        return queued
    _mark_queued()
    return messages


class _Templates:
    """Renders many messages: what `template.render(**variables)` does, minus its copy of the
    template's globals (a ChainMap of Jinja's and Flask's, copied key by key) for every
    message, the largest single cost of queueing a settlement batch's mail. Each template,
    and a plain-dict copy of its globals, is looked up once and passed as a shared context."""

    def __init__(self, environment):
        self.environment, self._loaded = environment, {}

    def render(self, name, variables):
        loaded = self._loaded.get(name)
        if loaded is None:
            template = self.environment.get_template(name)
            loaded = self._loaded[name] = (template, dict(template.globals))
        template, template_globals = loaded
        try:
            context = template.new_context({**template_globals, **variables}, shared=True)
            return self.environment.concat(template.root_render_func(context))
        except Exception:  # noqa: BLE001 - handle_exception re-raises it
            self.environment.handle_exception()  # re-raises, with the template's lines in the traceback


def _jinja_translation(translations):
    """The template's gettext functions bound to one catalogue (what `jinja2.ext.i18n`'s
    new-style callables do, minus looking the catalogue up again for every string)."""

    @pass_context
    def gettext(context, string, **variables):
        rv = translations.ugettext(string)
        if context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    @pass_context
    def ngettext(context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        rv = translations.ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    return {"gettext": gettext, "_": gettext, "ngettext": ngettext}


def recipient_locale(user):
    languages = current_app.config.get("LANGUAGES") or []
    if user.locale and user.locale in languages:
        return user.locale
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")


class _Helpers:
    """Formatting in the recipient's locale and time zone, for the mail templates."""

    def __init__(self, locale, user):
        self.locale = locale
        try:
            self.tz = ZoneInfo(user.timezone) if user.timezone else timezone.utc
        except (ZoneInfoNotFoundError, ValueError):
            self.tz = timezone.utc

    def money(self, minor, currency):
        return format_money(minor, currency, locale=self.locale)

    def datetime(self, value):
        if value is None:
            return ""
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return (
            format_datetime(value, "medium", tzinfo=self.tz, locale=self.locale)
            + f" ({value.astimezone(self.tz).tzname()})"
        )
