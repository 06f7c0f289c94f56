"""What a transaction asks for after its commit (crowdfund/after_commit.py) starts once, only
if it committed, and with what earlier transactions of the session committed."""

from contextlib import suppress

from sqlalchemy import select

from crowdfund import after_commit
from crowdfund.models import OutboxMessage
from crowdfund.services import notifications
from tests.support import outbox_rows as rows


def test_work_recorded_in_a_rolled_back_transaction_never_starts_but_what_committed_before_does(app, db):
    db.session.execute(select(1))
    after_commit.start_sweep("announce_updates")
    db.session.commit()
    db.session.execute(select(1))
    after_commit.start_settlement(404)
    after_commit.send_mail()
    db.session.rollback()

    assert after_commit.run() == {"sweeps": ["announce_updates"]}
    assert after_commit.run() == {}  # started once


def test_a_savepoint_rolled_back_keeps_what_its_transaction_asked_for_before_it(app, db):
    db.session.execute(select(1))
    after_commit.start_sweep("announce_updates")
    with suppress(RuntimeError), db.session.begin_nested():
        after_commit.start_sweep("deliver_sandbox_webhooks")
        raise RuntimeError("this part failed")
    assert after_commit.run() == {}  # nothing committed yet
    db.session.commit()

    # The rolled-back savepoint's sweep starts too: it finds nothing to do.
    assert after_commit.run() == {"sweeps": ["announce_updates", "deliver_sandbox_webhooks"]}


def test_a_job_between_its_commits_sends_its_mail_and_keeps_the_rest_for_later(app, db, make, smtp_server):
    pledge = rows.pledge(make, rows.project(make, title="Lantern Tea"))
    notifications.pledge_receipt(pledge)
    after_commit.start_settlement(404)
    db.session.commit()

    assert after_commit.run_mail() is True
    assert [m["Subject"] for m in smtp_server.messages] == ["Your pledge to Lantern Tea"]
    assert after_commit.run_mail() is False
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage)).one().sent_at is not None
    assert after_commit.run() == {"settlements": [404]}  # still asked for (no such project: logged)
