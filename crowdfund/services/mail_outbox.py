"""Writing mail to the outbox: the machinery under services/notifications.py and the other
notices (firm, investor, settlement, dispute). One message (`_queue_one`), every member of
a firm (`_queue_to_firm`), or many at once (`_queue_many`: one SELECT of the dedupe keys
already queued, one of the recipients, one batched INSERT), rendered from
`templates/mail/*.txt` in the recipient's language and time zone. A flush that wrote mail
asks for the mail sweep once the transaction commits (`after_commit.send_mail`).
"""

from datetime import timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, render_template
from flask_babel import force_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import after_commit
from ..database import bulk_insert, insert_new_returning, one_of
from ..domain.clock import utcnow
from ..domain.moments import format_moment
from ..domain.money import format_money
from ..extensions import db
from ..models import FirmMember, OutboxMessage, User
from . import mail_choices


@event.listens_for(Session, "after_flush")
def _note_queued_mail(session, _flush_context):
    if any(isinstance(obj, OutboxMessage) for obj in session.new):
        after_commit.send_mail(session)


def _mark_queued():
    """For mail written with a Core INSERT: no ORM object was flushed, so say so."""
    after_commit.send_mail()


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


def _queue_one(dedupe_key, user, template, subject, *, in_locale=None, kind=None, **context):
    """Queue one message for `user` unless `dedupe_key` is already in the outbox (in
    `in_locale` when given, else in the recipient's language). `kind`: one of the optional
    kinds of mail (services/mail_choices.py), not sent to a person who turned it off; None
    for mail that always goes. Either way it carries the link that changes the choices."""
    if kind is not None and mail_choices.opted_out(user.id, kind):
        return []
    stop = mail_choices.link(user, kind or mail_choices.ALL)
    locale = in_locale or recipient_locale(user)
    with force_locale(locale):
        helpers = _Helpers(locale, user)
        subject_text = " ".join(str(subject()).split())[:300]
        body = render_template(
            template, user=user, fmt=helpers, unsubscribe=stop, unsubscribe_kind=kind or mail_choices.ALL, **context
        )
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
                "list_unsubscribe": stop,
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
    list_unsubscribe: str | None = None


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


def _queue_many(items, *, kind=None):
    """`_queue_one` for many messages at once: items are (dedupe_key, user, template, subject,
    context); `kind` as for `_queue_one` (one query finds who turned it off). One SELECT
    finds the keys already queued; the rest are rendered (grouped by
    language, with that language's catalogue looked up once) and written with one batched
    INSERT in a savepoint. If a concurrent transaction queued one of them meanwhile, the
    savepoint is rolled back and each goes through `_queue_one`. Returns `Queued` records."""
    if not items:
        return []
    seen = _existing_keys([item[0] for item in items])
    if kind is not None:
        off = mail_choices.opted_out_ids([item[1].id for item in items], kind)
        items = [item for item in items if item[1].id not in off]
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
                stop = mail_choices.link(user, kind or mail_choices.ALL)
                body = templates.render(
                    template,
                    {
                        **translation,
                        "user": user,
                        "fmt": _Helpers(locale, user),
                        "unsubscribe": stop,
                        "unsubscribe_kind": kind or mail_choices.ALL,
                        **context,
                    },
                )
                messages[index] = Queued(dedupe_key, user.email, subjects[subject], body.strip() + "\n", stop)
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
                        "list_unsubscribe": m.list_unsubscribe,
                        "created_at": now,
                        "attempts": 0,
                    }
                    for m in messages
                ],
            )
    except IntegrityError:
        queued = []
        for dedupe_key, user, template, subject, context in todo:
            queued += _queue_one(dedupe_key, db.session.get(User, user.id), template, subject, kind=kind, **context)
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
        return format_moment(value, "medium", self.tz, self.locale) + f" ({value.astimezone(self.tz).tzname()})"
