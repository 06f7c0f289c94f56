"""A request that queues mail has it delivered after its commit; a request that fails sends nothing."""

import pytest
from sqlalchemy import select

from crowdfund.models import OutboxMessage
from tests.support import outbox_rows as rows


@pytest.fixture()
def web(outbox_web_app, smtp_server, monkeypatch):
    monkeypatch.setitem(outbox_web_app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(outbox_web_app.config, "MAIL_PORT", smtp_server.port)
    return outbox_web_app.test_client()


def test_mail_queued_by_a_request_is_delivered_after_its_commit(make, db, web, smtp_server):
    project = rows.project(make, title="Lantern Tea")
    pledge = rows.pledge(make, project, make.user(email="bo@example.com"))

    response = web.post(f"/_test/pledges/{pledge.id}/receipt")

    assert response.status_code == 200
    # Delivery ran in a session of its own, so it could only see the message once committed.
    [received] = smtp_server.messages
    assert received["To"] == "bo@example.com" and received["Subject"] == "Your pledge to Lantern Tea"
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.sent_at is not None


@pytest.mark.parametrize("outcome", ["refuse", "crash"])
def test_a_request_that_fails_sends_nothing(make, db, web, smtp_server, outcome):
    project = rows.project(make)
    pledge = rows.pledge(make, project)

    if outcome == "crash":
        with pytest.raises(RuntimeError):
            web.post(f"/_test/pledges/{pledge.id}/receipt?outcome=crash")
    else:
        assert web.post(f"/_test/pledges/{pledge.id}/receipt?outcome=refuse").status_code == 422

    assert smtp_server.messages == []
    assert db.session.scalars(select(OutboxMessage)).all() == []
    # And the next successful request delivers only its own mail, once.
    assert web.post(f"/_test/pledges/{pledge.id}/receipt").status_code == 200
    assert len(smtp_server.messages) == 1


def test_mail_a_step_committed_before_the_request_failed_is_still_delivered(make, db, web, smtp_server):
    project = rows.project(make, title="Lantern Tea")
    pledge = rows.pledge(make, project, make.user(email="bo@example.com"))

    response = web.post(f"/_test/pledges/{pledge.id}/receipt?commit=1&outcome=refuse")

    assert response.status_code == 422
    [received] = smtp_server.messages
    assert received["To"] == "bo@example.com" and received["Subject"] == "Your pledge to Lantern Tea"


def test_a_request_whose_mail_cannot_be_sent_still_succeeds(make, db, web, smtp_server):
    project = rows.project(make)
    pledge = rows.pledge(make, project)
    smtp_server.stop()

    response = web.post(f"/_test/pledges/{pledge.id}/receipt")

    assert response.status_code == 200
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.sent_at is None and message.attempts == 1 and "Connection refused" in message.last_error


def test_a_request_that_queues_nothing_does_not_run_delivery(make, db, web, smtp_server):
    # Mail left over from elsewhere (e.g. a job) waits for its own delivery run.
    db.session.add(OutboxMessage(dedupe_key="left:1", to_address="a@example.com", subject="s", body_text="b"))
    db.session.commit()

    assert web.get("/healthz").status_code == 200

    assert smtp_server.messages == []
