"""A founder's update as mail: a plain-text part without raw Markdown, and a sanitised HTML
alternative (the update as the campaign page shows it), set on the outbox rows just queued."""

import re

from sqlalchemy import bindparam, update as sql_update

from ..domain.plain_text import html_to_text, text_to_html
from ..extensions import db
from ..models import OutboxMessage
from .mail_choices import absolute_url

_OUTBOX = OutboxMessage.__table__  # Core: an executemany UPDATE keyed by dedupe_key
_SET_HTML = sql_update(_OUTBOX).where(_OUTBOX.c.dedupe_key == bindparam("key")).values(body_html=bindparam("html"))


# A site-relative address in the update's HTML (a story image, a link to one of our pages):
# a mail is read away from the site, so each becomes absolute.
_SITE_RELATIVE = re.compile(r'(\s(?:src|href)=")(/(?!/)[^"]*)"')


def mail_html(update):
    """The update's sanitised HTML with every site-relative `src`/`href` made absolute, and
    images no wider than the reader's window (a story image may be 1600 px wide)."""
    html = _SITE_RELATIVE.sub(lambda m: f'{m.group(1)}{absolute_url(m.group(2))}"', update.body_html or "")
    return html.replace("<img ", '<img style="max-width: 100%; height: auto" ')


def plain_text(update):
    return html_to_text(mail_html(update))


def html_body(body_text, update_text, update_html):
    """The message's own text (in the recipient's language) as HTML, with the update's text
    replaced by its sanitised HTML."""
    before, found, after = body_text.partition(update_text) if update_text else (body_text, "", "")
    if not found:
        return text_to_html(body_text)
    return (
        '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">\n'
        + text_to_html(before)
        + f"<div>{update_html}</div>\n"
        + text_to_html(after)
        + "</body></html>\n"
    )


def add_html(update, update_text, queued):
    """Give each message just queued (`mail_outbox.Queued` records or OutboxMessage rows) its
    HTML alternative: one executemany UPDATE."""
    html = mail_html(update)
    rows = [{"key": m.dedupe_key, "html": html_body(m.body_text, update_text, html)} for m in queued]
    if rows:
        db.session.execute(_SET_HTML, rows)
