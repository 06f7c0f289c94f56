"""A founder's update as mail: a plain-text part without raw Markdown, and a sanitised HTML
alternative (the update as the campaign page shows it), set on the outbox rows just queued."""

from sqlalchemy import bindparam, update as sql_update

from ..domain.plain_text import html_to_text, text_to_html
from ..extensions import db
from ..models import OutboxMessage

_OUTBOX = OutboxMessage.__table__  # Core: an executemany UPDATE keyed by dedupe_key
_SET_HTML = sql_update(_OUTBOX).where(_OUTBOX.c.dedupe_key == bindparam("key")).values(body_html=bindparam("html"))


def plain_text(update):
    return html_to_text(update.body_html)


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
    rows = [{"key": m.dedupe_key, "html": html_body(m.body_text, update_text, update.body_html or "")} for m in queued]
    if rows:
        db.session.execute(_SET_HTML, rows)
