"""Delivery of the outbox to a real SMTP server (aiosmtpd on 127.0.0.1) or to .eml files."""

import asyncio
import email
import shutil
import subprocess
import threading
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select, text

from crowdfund.extensions import db as _db
from crowdfund.jobs.mail import deliver_pending, message_id
from crowdfund.models import OutboxMessage, utcnow
from crowdfund.services import notifications
from tests.support import outbox_rows as rows
from tests.support.mailserver import SmtpServer, password_checker


def queue(db, count=1, *, to="bo@example.com", prefix="test"):
    """`count` committed messages, oldest first."""
    start = utcnow() - timedelta(minutes=10)
    messages = []
    for i in range(count):
        message = OutboxMessage(
            dedupe_key=f"{prefix}:{i}",
            to_address=to,
            subject=f"Message {i}",
            body_text=f"Body {i}\n",
            created_at=start + timedelta(seconds=i),
        )
        db.session.add(message)
        messages.append(message)
    db.session.commit()
    return messages


def reload(db, message):
    db.session.expire_all()
    return db.session.get(OutboxMessage, message.id)


def test_a_queued_message_is_delivered_once(make, db, smtp_server, app):
    project = rows.project(make, title="Lantern Tea")
    pledge = rows.pledge(make, project, make.user(name="Bo", email="bo@example.com"), amount=2500)
    [message] = notifications.pledge_receipt(pledge)
    db.session.commit()

    report = deliver_pending()

    assert (report.sent, report.failed, report.gave_up) == (1, 0, 0)
    [received] = smtp_server.messages
    assert received["To"] == "bo@example.com"
    assert received["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert received["Subject"] == "Your pledge to Lantern Tea"
    assert received["Message-ID"] == message_id(f"pledge_receipt:{pledge.id}", app.config["MAIL_DEFAULT_SENDER"])
    assert "Amount: CN¥25.00" in received.get_content()
    message = reload(db, message)
    assert message.sent_at is not None and message.attempts == 1 and message.last_error is None

    again = deliver_pending()
    assert again.sent == 0
    assert len(smtp_server.messages) == 1


def test_oldest_messages_go_first_and_limit_is_respected(db, smtp_server):
    queue(db, 5)

    first = deliver_pending(limit=3)
    assert first.sent == 3
    assert [m["Subject"] for m in smtp_server.messages] == ["Message 0", "Message 1", "Message 2"]

    deliver_pending()
    assert [m["Subject"] for m in smtp_server.messages][3:] == ["Message 3", "Message 4"]


def test_smtp_down_loses_nothing_and_delivers_when_it_is_back(db, smtp_server):
    messages = queue(db, 3)
    smtp_server.stop()

    report = deliver_pending()

    assert report.sent == 0 and report.failed == 1
    assert "Connection refused" in report.stopped
    head = reload(db, messages[0])
    assert head.sent_at is None and head.attempts == 1 and "Connection refused" in head.last_error
    # The run stopped at the first message: the others were not charged an attempt.
    assert [reload(db, m).attempts for m in messages[1:]] == [0, 0]

    smtp_server.start()
    report = deliver_pending()

    assert report.sent == 3
    assert sorted(m["Subject"] for m in smtp_server.messages) == ["Message 0", "Message 1", "Message 2"]
    head = reload(db, messages[0])
    assert head.sent_at is not None and head.attempts == 2 and head.last_error is None


def test_a_refused_address_does_not_hold_up_the_others(db, smtp_server):
    good = queue(db, 1, to="ann@example.com", prefix="good")
    bad = queue(db, 1, to="gone@example.com", prefix="bad")
    smtp_server.handler.refuse["gone@example.com"] = "550 5.1.1 No such user here"

    report = deliver_pending()

    assert report.sent == 1 and report.gave_up == 1 and report.stopped is None
    assert [m["To"] for m in smtp_server.messages] == ["ann@example.com"]
    refused = reload(db, bad[0])
    # A permanent refusal is not retried, but the message stays visible with its reason.
    assert refused.sent_at is None and refused.attempts == 8
    assert "No such user here" in refused.last_error
    assert reload(db, good[0]).sent_at is not None
    assert deliver_pending().sent == 0 and deliver_pending().gave_up == 0


def test_temporary_failures_are_retried_until_max_attempts(db, smtp_server, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    [message] = queue(db, 1, to="busy@example.com")
    smtp_server.handler.refuse["busy@example.com"] = "450 4.2.1 Mailbox busy, try later"

    assert deliver_pending().failed == 1
    assert reload(db, message).attempts == 1
    second = deliver_pending()
    assert second.gave_up == 1
    third = deliver_pending()
    assert (third.sent, third.failed, third.gave_up) == (0, 0, 0)
    message = reload(db, message)
    assert message.attempts == 2 and message.sent_at is None and "Mailbox busy" in message.last_error

    # An admin puts it back in line once the mailbox works again.
    del smtp_server.handler.refuse["busy@example.com"]
    result = app.test_cli_runner().invoke(args=["mail", "retry"])
    assert "1 message(s) will be tried again" in result.output
    assert deliver_pending().sent == 1
    assert [m["To"] for m in smtp_server.messages] == ["busy@example.com"]


def test_crash_between_smtp_accept_and_commit_resends_with_the_same_message_id(db, smtp_server):
    """At least once at the SMTP boundary: the database refuses the 'sent' mark (as if the
    process had died after the server said 250), so the next run sends it again, with the
    same Message-ID for the receiving side to recognise."""
    [message] = queue(db, 1)
    _refuse_marking_sent(db)
    try:
        with pytest.raises(Exception, match="simulated crash"):
            deliver_pending()
    finally:
        db.session.rollback()
        _allow_marking_sent(db)
    assert len(smtp_server.messages) == 1
    assert reload(db, message).sent_at is None

    assert deliver_pending().sent == 1
    first, second = smtp_server.messages
    assert first["Message-ID"] == second["Message-ID"]
    assert reload(db, message).sent_at is not None


def _refuse_marking_sent(db):
    with db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_sent BEFORE UPDATE OF sent_at ON outbox_messages "
                    "WHEN NEW.sent_at IS NOT NULL BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_sent() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'simulated crash'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_sent BEFORE UPDATE OF sent_at ON outbox_messages "
                    "FOR EACH ROW WHEN (NEW.sent_at IS NOT NULL) EXECUTE FUNCTION refuse_sent()"
                )
            )


def _allow_marking_sent(db):
    with db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER refuse_sent"))
        else:
            conn.execute(text("DROP TRIGGER refuse_sent ON outbox_messages"))
            conn.execute(text("DROP FUNCTION refuse_sent()"))


def test_eml_files_when_no_mail_server_is_configured(db, app, no_mail_server):
    messages = queue(db, 2)

    report = deliver_pending()

    assert report.sent == 2
    folder = Path(app.instance_path) / "mail"
    for message in messages:
        path = folder / f"{message.id:08d}.eml"
        parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert parsed["Subject"] == message.subject and parsed["To"] == "bo@example.com"
        assert parsed.get_content() == message.body_text
        assert reload(db, message).sent_at is not None
    assert not list(folder.glob(".tmp-*")), "a temporary file was left behind"
    assert deliver_pending().sent == 0


def test_non_ascii_subject_and_body_survive_the_trip(db, smtp_server):
    db.session.add(
        OutboxMessage(
            dedupe_key="zh:1",
            to_address="bo@example.com",
            subject="您对兰亭茶的支持",
            body_text="金额： ¥25.00\n" + "很长的一行。" * 40 + "\n",
        )
    )
    db.session.commit()

    deliver_pending()

    [received] = smtp_server.messages
    assert received["Subject"] == "您对兰亭茶的支持"
    assert received.get_content() == "金额： ¥25.00\n" + "很长的一行。" * 40 + "\n"


def test_smtp_login_uses_the_configured_account(db, app, monkeypatch):
    server = SmtpServer(authenticator=password_checker("mailer", "s3cret-pass"), auth_require_tls=False).start()
    try:
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
        monkeypatch.setitem(app.config, "MAIL_USERNAME", "mailer")
        monkeypatch.setitem(app.config, "MAIL_PASSWORD", "wrong")
        [message] = queue(db, 1)

        refused = deliver_pending()
        assert refused.sent == 0 and "SMTPAuthenticationError" in refused.stopped
        assert server.messages == []

        monkeypatch.setitem(app.config, "MAIL_PASSWORD", "s3cret-pass")
        assert deliver_pending().sent == 1
        assert len(server.messages) == 1 and reload(db, message).attempts == 2
    finally:
        server.stop()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_starttls_when_configured(db, app, monkeypatch, tmp_path):
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(tls_context=context, require_starttls=True).start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts our test certificate
    try:
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
        queue(db, 1)

        monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
        plain = deliver_pending()
        assert plain.sent == 0 and "STARTTLS" in plain.stopped  # the server insists on TLS

        monkeypatch.setitem(app.config, "MAIL_USE_TLS", True)
        assert deliver_pending().sent == 1
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_flask_mail_deliver_prints_counts(app, db, smtp_server):
    queue(db, 2)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["mail", "deliver"])

    assert result.exit_code == 0, result.output
    assert "Sent 2, failed 0 (will retry), gave up on 0." in result.output
    assert "Outbox: 0 waiting, 0 given up, 2 sent." in result.output
    assert len(smtp_server.messages) == 2

    queue(db, 1, prefix="later")
    smtp_server.stop()
    down = runner.invoke(args=["mail", "deliver"])
    assert down.exit_code == 1
    assert "Sent 0, failed 1 (will retry)" in down.output
    assert "Outbox: 1 waiting, 0 given up, 2 sent." in down.output


@pytest.mark.postgres_only
def test_a_message_claimed_by_another_worker_is_skipped(db, smtp_server):
    first, second = queue(db, 2)
    # Another worker is in the middle of sending the first message: it holds the row lock.
    other = db.engine.connect()
    try:
        other.begin()
        other.execute(text("SELECT id FROM outbox_messages WHERE id = :id FOR UPDATE"), {"id": first.id})

        report = deliver_pending()

        assert report.sent == 1
        assert [m["Subject"] for m in smtp_server.messages] == ["Message 1"]
        assert reload(db, first).sent_at is None and reload(db, first).attempts == 0
    finally:
        other.rollback()
        other.close()
    assert deliver_pending().sent == 1
    assert [m["Subject"] for m in smtp_server.messages] == ["Message 1", "Message 0"]


@pytest.mark.postgres_only
def test_two_workers_at_once_send_each_message_exactly_once(app, db, smtp_server):
    queue(db, 12)
    slow = smtp_server.handler.handle_DATA

    async def slow_data(server, session, envelope):
        await asyncio.sleep(0.02)  # keep each claim open long enough for the workers to overlap
        return await slow(server, session, envelope)

    smtp_server.handler.handle_DATA = slow_data
    reports, errors = [], []

    def worker():
        try:
            with app.app_context():
                reports.append(deliver_pending())
        except Exception as exc:  # noqa: BLE001  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    subjects = sorted(m["Subject"] for m in smtp_server.messages)
    assert subjects == sorted(f"Message {i}" for i in range(12))
    assert sum(r.sent for r in reports) == 12
    assert all(r.sent > 0 for r in reports), "both workers should have done part of the work"
    db.session.expire_all()
    assert db.session.scalar(select(_db.func.count()).where(OutboxMessage.sent_at.is_(None))) == 0
