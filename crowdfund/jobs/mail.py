"""Delivering the mail outbox.

`deliver_pending()` sends the outbox's unsent messages, oldest first. Each message is
claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL), sent, and marked sent in
that same transaction only after the SMTP server accepted it; so two workers never send
the same message at once, and a message is marked sent only once it really left.

Guarantees:
- exactly once per dedupe key *in the outbox*: an event queues one message, ever
  (`crowdfund.services.notifications`);
- at least once *at the SMTP boundary*: if the process dies (or the database fails)
  after the server accepted a message and before the commit, the message is still
  unsent here and is sent again on the next run. It then carries the same Message-ID
  (derived from the dedupe key), so the duplicate is recognisable to mail systems and
  to a person.

A failed send increments `attempts` and stores `last_error`; the message stays for the
next run. After MAIL_MAX_ATTEMPTS attempts (a permanent 5xx refusal of the address or the message counts as
all of them) it is no longer tried, but stays in the table, unsent, with its error, for
an admin (`flask mail retry` puts it back in line). When the server cannot be reached at
all, the run stops at the first message (recording the error on it) rather than charging
an attempt to every message in the queue.

With no MAIL_SERVER configured, each message is written as ``instance/mail/<id>.eml``.

On SQLite (no row locks) the runs of one process are serialised by a lock; two
processes delivering against one SQLite file may, rarely, send a message twice: the
at-least-once rule above, made more likely.
"""

import hashlib
import logging
import os
import smtplib
import ssl
import tempfile
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select, tuple_, update

from ..after_commit import MAIL_SWEEP
from ..domain.clock import utcnow
from ..extensions import db
from ..models import OutboxMessage
from . import enqueue_sweep, job

log = logging.getLogger(__name__)

# Failures that concern one message; the connection stays usable for the next one.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)

_sqlite_lock = threading.Lock()


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # failed this run, will be retried
    gave_up: int = 0  # failed this run and reached MAIL_MAX_ATTEMPTS
    stopped: str | None = None  # why the run stopped early (the server could not be reached)

    def as_dict(self):
        return {"sent": self.sent, "failed": self.failed, "gave_up": self.gave_up, "stopped": self.stopped}


JOB = MAIL_SWEEP  # a transaction that queued mail starts it after its commit (after_commit.send_mail)


@job(JOB, sweep=True)
def deliver_mail(limit=100):
    report = deliver_pending(limit)
    if report.sent >= limit and current_app.config.get("CELERY_BROKER_URL"):
        # More may be waiting. Commits that queued mail while this run was queued did not
        # send runs of their own (`enqueue_sweep`), so hand on to the next run rather than
        # leave the rest to the periodic one.
        enqueue_sweep("deliver_mail")
    return report.as_dict()


def deliver_pending(limit=100):
    """Send up to `limit` unsent messages; commits once per message. Returns a DeliveryReport."""
    app = current_app._get_current_object()
    if db.session.get_bind().dialect.name == "sqlite":
        with _sqlite_lock:
            return _deliver(app, limit)
    return _deliver(app, limit)


def _deliver(app, limit):
    max_attempts = int(app.config.get("MAIL_MAX_ATTEMPTS") or 8)
    transport = SmtpTransport(app) if app.config.get("MAIL_SERVER") else FileTransport(app)
    report = DeliveryReport()
    tried, last = 0, None
    session = db.session
    # Jobs commit their own work: run this outside any unit of work (a job, the CLI).
    # Starting with a commit gives each claim a fresh view of the outbox.
    session.commit()
    try:
        while tried < limit:
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < max_attempts)
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
                .limit(1)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
            if last is not None:
                # Past the last one tried (sent or failed: it waits for the next run), in the
                # queue's order. One committed meanwhile with an earlier created_at is left
                # to the next run, which its commit started (enqueue_sweep).
                query = query.where(tuple_(OutboxMessage.created_at, OutboxMessage.id) > last)
            message = session.scalars(query).first()
            if message is None:
                session.rollback()
                break
            tried, last = tried + 1, (message.created_at, message.id)
            try:
                email = build_email(message, app.config)
            except Exception as error:  # noqa: BLE001  (a message that cannot be built never will be)
                _record_failure(session, message, error, max_attempts, report, permanent=True)
                continue
            try:
                transport.send(message, email)
            except Exception as error:  # noqa: BLE001  (every failure is recorded on the message)
                reason = _record_failure(session, message, error, max_attempts, report, permanent=_is_permanent(error))
                if not isinstance(error, MESSAGE_ERRORS):
                    # The server cannot be reached (or dropped us): stop here, try again next run.
                    transport.close()
                    report.stopped = reason
                    break
                continue
            message.sent_at = utcnow()
            message.attempts += 1
            message.last_error = None
            session.commit()
            report.sent += 1
    finally:
        session.rollback()
        transport.close()
    return report


def _record_failure(session, message, error, max_attempts, report, *, permanent):
    attempts = max(message.attempts + 1, max_attempts) if permanent else message.attempts + 1
    reason = _describe(error)
    message_id_, address = message.id, message.to_address
    message.attempts, message.last_error = attempts, reason
    session.commit()
    if attempts >= max_attempts:
        report.gave_up += 1
        log.error("Giving up on mail %s to %s: %s", message_id_, address, reason)
    else:
        report.failed += 1
        log.warning("Mail %s not sent (attempt %s): %s", message_id_, attempts, reason)
    return reason


def _is_permanent(error):
    """Refused for good: a 5xx for every recipient, or for the message itself."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def _describe(error):
    text = f"{type(error).__name__}: {error}"
    return text[:2000]


def message_id(dedupe_key, sender):
    """The Message-ID of the message with this dedupe key: the same on every (re)send."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "crowdfund.local"
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]
    return f"<{digest}.outbox@{domain}>"


def build_email(message, config):
    sender = config.get("MAIL_DEFAULT_SENDER") or "Crowdfund <no-reply@crowdfund.local>"
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = message_id(message.dedupe_key, sender)
    email["Auto-Submitted"] = "auto-generated"
    if getattr(message, "list_unsubscribe", None):  # mail a person can stop: one click in their mail program
        email["List-Unsubscribe"] = f"<{message.list_unsubscribe}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.body_text)
    if getattr(message, "body_html", None):  # formatted mail: the text above is its plain alternative
        email.add_alternative(message.body_html, subtype="html")
    return email


class SmtpTransport:
    """One SMTP connection per run, opened on the first message."""

    def __init__(self, app):
        self.config = app.config
        self.connection = None

    def _connect(self):
        config = self.config
        connection = smtplib.SMTP(
            config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25), timeout=float(config.get("MAIL_TIMEOUT") or 30)
        )
        try:
            connection.ehlo()
            if config.get("MAIL_USE_TLS"):
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if config.get("MAIL_USERNAME"):
                connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, message, email):
        if self.connection is None:
            self.connection = self._connect()
        self.connection.send_message(email)

    def close(self):
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


class FileTransport:
    """Writes each message as instance/mail/<id>.eml (atomically: temp file, then rename)."""

    def __init__(self, app):
        self.directory = Path(app.instance_path) / "mail"

    def send(self, message, email):
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path_for(message)
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(bytes(email))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def path_for(self, message):
        return self.directory / f"{message.id:08d}.eml"

    def close(self):
        pass


def outbox_counts(max_attempts):
    """{"waiting": n, "given_up": n, "sent": n} for the whole outbox."""
    unsent = OutboxMessage.sent_at.is_(None)
    return {
        "waiting": db.session.scalar(select(func.count()).where(unsent, OutboxMessage.attempts < max_attempts)),
        "given_up": db.session.scalar(select(func.count()).where(unsent, OutboxMessage.attempts >= max_attempts)),
        "sent": db.session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_not(None))),
    }


# ---------------------------------------------------------------------------- CLI

mail_cli = AppGroup("mail", help="The email outbox.")


@mail_cli.command("deliver")
@click.option("--limit", default=1000, show_default=True, help="Most messages to send in this run.")
def deliver_command(limit):
    """Send the outbox's unsent messages now."""
    report = deliver_pending(limit)
    counts = outbox_counts(int(current_app.config.get("MAIL_MAX_ATTEMPTS") or 8))
    click.echo(f"Sent {report.sent}, failed {report.failed} (will retry), gave up on {report.gave_up}.")
    click.echo(f"Outbox: {counts['waiting']} waiting, {counts['given_up']} given up, {counts['sent']} sent.")
    if report.stopped:
        click.echo(f"Stopped early: {report.stopped}", err=True)
        raise SystemExit(1)


@mail_cli.command("retry")
def retry_command():
    """Put the messages that were given up on back in line (their attempts start again)."""
    max_attempts = int(current_app.config.get("MAIL_MAX_ATTEMPTS") or 8)
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts >= max_attempts)
        .values(attempts=0)
    )
    db.session.commit()
    click.echo(f"{result.rowcount} message(s) will be tried again on the next delivery.")
