"""`flask ledger reconcile`: our ledger against the processor's own books (the sandbox's)."""

import secrets

from sqlalchemy import update

from crowdfund.jobs.reconcile_books import compare_with_processor, reconcile_books
from crowdfund.models import OutboxMessage, SandboxOperation, utcnow
from crowdfund.workflows import cancel
from tests.support.settlement import close, reward_campaign


def reconcile(app):
    result = app.test_cli_runner().invoke(args=["ledger", "reconcile"])
    return result.exit_code, result.output


def a_busy_day(make, db):
    """Held, cancelled, refunded at a failure, released and paid out."""
    winner, _ = reward_campaign(make, db, goal="50", backers=3)
    loser, _ = reward_campaign(make, db, goal="5000", backers=2)
    live, held = reward_campaign(make, db, goal="5000", backers=2)
    cancel.cancel_pledge(held[0].backer, held[0].id)
    close(db, winner)
    close(db, loser)
    return live


def test_the_books_agree_after_every_kind_of_money_movement(app, make, db):
    a_busy_day(make, db)
    code, output = reconcile(app)
    assert code == 0, output
    assert "Ledger agrees with the processor" in output


def test_a_charge_the_processor_took_for_no_pledge_is_reported(app, make, db):
    a_busy_day(make, db)
    stray = f"ch_sbx_{secrets.token_hex(10)}"
    db.session.add(
        SandboxOperation(
            id=stray,
            idempotency_key="someone-else",
            kind="charge",
            status="succeeded",
            amount=999,
            currency="USD",
            fee=59,
            created_at=utcnow(),
        )
    )
    db.session.commit()
    code, output = reconcile(app)
    assert code == 1
    assert f"took 999 USD ({stray}) for no pledge of ours" in output
    assert "USD: the processor holds" in output  # and the totals no longer match


def test_a_fee_that_differs_from_what_we_booked_is_reported(app, make, db):
    project, held = reward_campaign(make, db, goal="5000", backers=1)
    db.session.execute(update(SandboxOperation).where(SandboxOperation.id == held[0].charge_ref).values(fee=1))
    db.session.commit()
    code, output = reconcile(app)
    assert code == 1 and f"the processor kept 1 in fees on {held[0].charge_ref}" in output


def test_a_refund_the_processor_never_made_is_reported(app, make, db):
    project, held = reward_campaign(make, db, goal="5000", backers=1)
    cancel.cancel_pledge(held[0].backer, held[0].id)
    db.session.execute(update(SandboxOperation).where(SandboxOperation.kind == "refund").values(status="failed"))
    db.session.commit()
    code, output = reconcile(app)
    assert code == 1 and f"Pledge {held[0].id} was returned in our books" in output


def test_the_daily_run_mails_the_admins_only_when_the_books_differ(app, make, db):
    make.admin(email="root@example.com")
    a_busy_day(make, db)
    assert reconcile_books()["differences"] == 0
    db.session.add(
        SandboxOperation(
            id="ch_sbx_stray0000000000000",
            idempotency_key="stray",
            kind="charge",
            status="succeeded",
            amount=500,
            currency="USD",
            fee=45,
            created_at=utcnow(),
        )
    )
    db.session.commit()
    assert reconcile_books()["differences"] >= 1
    subjects = db.session.query(OutboxMessage.subject).filter(OutboxMessage.to_address == "root@example.com").all()
    assert subjects == [("The ledger differs from the payment processor's books",)]
    problems, records = compare_with_processor(since=utcnow())
    assert records == 0 and problems == []  # nothing happened since now
