"""The firm's payout waits PAYOUT_DELAY, holds back a reserve until PAYOUT_RESERVE_DAYS, and
waits out a processor whose balance is short (`balance_insufficient`) instead of failing."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowdfund import ledger
from crowdfund.jobs import scheduler
from crowdfund.jobs.settlement import resume
from crowdfund.models import OutboxMessage, SandboxOperation
from crowdfund.services import statements
from crowdfund.workflows import settlement as settlement_workflow
from tests.conftest import csrf_token
from tests.support.settlement import assert_ledger_ok, close, operations, reward_campaign, settlement_of

NET = 2375  # a 25.00 pledge minus the 5% platform fee


@pytest.fixture()
def config(app):
    saved = dict(app.config)
    yield app.config
    app.config.clear()
    app.config.update(saved)


def identity_holds(data):
    return (
        data["gross"] - data["refunded"]
        == data["in_escrow"] + data["fee"] + data["processor_fees_firm"] + data["paid_out"] + data["awaiting_payout"]
    ) and 0 <= data["reserved"] <= data["awaiting_payout"]


def books_agree(app, db):
    """`ledger verify` and `flask ledger reconcile` (the CLI) both pass."""
    assert_ledger_ok(db)
    result = app.test_cli_runner().invoke(args=["ledger", "reconcile"])
    assert result.exit_code == 0, result.output
    db.session.rollback()


def mails(db, prefix):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like(prefix + "%"))).all()


def test_the_payout_waits_for_the_delay_then_goes(app, make, db, config):
    config["PAYOUT_DELAY"] = 14 * 24 * 3600
    project, held = reward_campaign(make, db, goal="50", backers=3)
    close(db, project)
    settlement = settlement_of(db, project)
    due = settlement.created_at + timedelta(days=14)
    assert (settlement.status, settlement.due_at, settlement.payout_due_at) == ("waiting_for_payout", due, due)
    assert settlement.last_error is None and operations(db, "payout") == 0
    data = statements.statement(project)
    assert data["awaiting_payout"] == 3 * NET and data["paid_out"] == 0 and data["payout_due_at"] == due
    assert identity_holds(data)
    books_agree(app, db)

    assert app.test_cli_runner().invoke(args=["settlement", "resume"]).exit_code == 0  # now: not due yet
    assert resume(now=due - timedelta(seconds=1)) == {"settlements": 0, "refunds": 0}
    assert settlement_of(db, project).status == "waiting_for_payout" and operations(db, "payout") == 0

    assert resume(now=due) == {"settlements": 1, "refunds": 0}
    settlement = settlement_of(db, project)
    assert settlement.status == "completed" and settlement.payout_amount == 3 * NET
    assert operations(db, "payout") == 1 and len(mails(db, f"payout_sent:{settlement.id}:")) == 1
    data = statements.statement(project)
    assert data["paid_out"] == 3 * NET and data["awaiting_payout"] == 0 and identity_holds(data)
    books_agree(app, db)


def test_the_reserve_is_held_back_shown_and_paid_after_its_days(app, make, db, config, client, login):
    config.update(PAYOUT_RESERVE_BPS=1000, PAYOUT_RESERVE_DAYS=90)  # 10% for 90 days
    project, held = reward_campaign(make, db, goal="50", backers=3)
    close(db, project)
    net, reserve = 3 * NET, 3 * NET // 10
    settlement = settlement_of(db, project)
    until = settlement.created_at + timedelta(days=90)
    assert (settlement.payout_amount, settlement.reserve_amount) == (net - reserve, reserve)
    assert (settlement.status, settlement.due_at, settlement.reserve_due_at) == ("waiting_for_payout", until, until)
    assert settlement.payout_ref is not None and settlement.reserve_ref is None
    payout = db.session.get(SandboxOperation, settlement.payout_ref)
    assert (payout.amount, payout.idempotency_key) == (net - reserve, f"settlement-{settlement.id}-payout")
    data = statements.statement(project)
    assert (data["paid_out"], data["awaiting_payout"], data["reserved"], data["reserved_until"]) == (
        net - reserve,
        reserve,
        reserve,
        until,
    )
    assert identity_holds(data)
    [sent] = [m for m in mails(db, f"payout_sent:{settlement.id}:")]
    assert "$7.12" in sent.body_text and "held back as a reserve" in sent.body_text  # 712 of 7125
    books_agree(app, db)

    login(make.founder_of(project))
    page = client.get(f"/projects/{project.id}/statement").get_data(as_text=True)
    assert 'data-testid="reserved"' in page and "$7.12" in page
    values = dict(
        zip(
            *(
                line.split(",")
                for line in client.get(f"/projects/{project.id}/statement.csv").get_data(as_text=True).splitlines()
            )
        )
    )
    assert values["reserved"] == str(reserve) and values["reserved_until"] == statements.iso(until)
    assert "held back as a reserve until" in client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)

    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    login(make.admin())
    page = client.get("/admin/settlements").get_data(as_text=True)
    assert "Waiting for payout" in page and "+ reserve $7.12" in page

    assert settlement_workflow.settle(project.id, now=until - timedelta(minutes=1)) == "waiting_for_payout"
    assert operations(db, "payout") == 1
    assert settlement_workflow.settle(project.id, now=until) == "completed"
    settlement = settlement_of(db, project)
    reserve_op = db.session.get(SandboxOperation, settlement.reserve_ref)
    assert (reserve_op.amount, reserve_op.idempotency_key) == (reserve, f"settlement-{settlement.id}-reserve")
    assert operations(db, "payout") == 2 and len(mails(db, f"reserve_sent:{settlement.id}:")) == 1
    data = statements.statement(project)
    assert (data["paid_out"], data["awaiting_payout"], data["reserved"], data["reserved_until"]) == (net, 0, 0, None)
    assert identity_holds(data)
    assert settlement_workflow.settle(project.id, now=until + timedelta(days=1)) == "completed"
    assert operations(db, "payout") == 2  # settling again pays nothing more
    books_agree(app, db)


def test_a_reserve_due_before_the_delay_ends_goes_with_the_payout(app, make, db, config):
    config.update(PAYOUT_DELAY=3600, PAYOUT_RESERVE_BPS=500, PAYOUT_RESERVE_DAYS=0)
    project, held = reward_campaign(make, db, goal="50", backers=2)
    close(db, project)
    settlement = settlement_of(db, project)
    assert settlement.status == "waiting_for_payout" and operations(db, "payout") == 0
    assert settlement_workflow.settle(project.id, now=settlement.created_at + timedelta(hours=1)) == "completed"
    assert operations(db, "payout") == 2
    assert identity_holds(statements.statement(project))
    books_agree(app, db)


def test_a_short_balance_waits_and_a_later_run_pays(app, make, db, config, sandbox, client, login):
    config["PAYOUT_BALANCE_RETRY"] = 3600
    sandbox.faults.refuse("payout", "balance_insufficient", times=2)
    project, held = reward_campaign(make, db, goal="50", backers=3)
    close(db, project)
    settlement = settlement_of(db, project)
    assert settlement.status == "waiting_for_payout"  # not needs_attention: nothing for an admin to do
    assert settlement.last_error.startswith("balance_insufficient:") and settlement.payout_attempts == 1
    first_wait = settlement.due_at
    assert timedelta(minutes=59) < first_wait - settlement.created_at < timedelta(minutes=61)
    assert operations(db, "payout") == 0 and statements.statement(project)["awaiting_payout"] == 3 * NET
    books_agree(app, db)

    login(make.admin())
    page = client.get("/admin/settlements").get_data(as_text=True)
    assert "Waiting for payout" in page and "balance_insufficient" in page and "Next try" in page

    assert settlement_workflow.settle(project.id, now=first_wait - timedelta(seconds=1)) == "waiting_for_payout"
    assert settlement_workflow.settle(project.id, now=first_wait) == "waiting_for_payout"  # refused again
    settlement = settlement_of(db, project)
    assert settlement.due_at == first_wait + timedelta(hours=2)  # backing off: 1 h, then 2 h
    assert resume(now=settlement.due_at) == {"settlements": 1, "refunds": 0}
    settlement = settlement_of(db, project)
    assert settlement.status == "completed" and settlement.last_error is None and settlement.payout_attempts == 0
    assert operations(db, "payout") == 1
    # The processor keeps each answer under its key (a refusal too): each try had a new one.
    tries = db.session.execute(
        select(SandboxOperation.idempotency_key, SandboxOperation.status)
        .where(SandboxOperation.kind == "payout")
        .order_by(SandboxOperation.created_at)
    ).all()
    key = f"settlement-{settlement.id}-payout"
    assert [tuple(t) for t in tries] == [(key, "refused"), (f"{key}-2", "refused"), (f"{key}-3", "succeeded")]
    assert settlement.payout_ref == db.session.scalar(
        select(SandboxOperation.id).where(SandboxOperation.idempotency_key == f"{key}-3")
    )
    data = statements.statement(project)
    assert data["paid_out"] == 3 * NET and identity_holds(data)
    books_agree(app, db)


def test_any_other_refusal_still_needs_an_admin(make, db, sandbox):
    sandbox.faults.refuse("payout", "account_closed")
    project, held = reward_campaign(make, db, goal="25", backers=1)
    close(db, project)
    settlement = settlement_of(db, project)
    assert settlement.status == "needs_attention" and settlement.last_error.startswith("account_closed:")


def test_the_scheduler_resumes_a_payout_that_came_due(app, make, db, config):
    config["PAYOUT_DELAY"] = 3600
    project, held = reward_campaign(make, db, goal="25", backers=1)
    close(db, project)
    settlement = settlement_of(db, project)
    assert settlement.status == "waiting_for_payout"
    an_hour_ago = settlement.created_at - timedelta(hours=1)  # as if the hour had passed
    settlement.created_at, settlement.payout_due_at, settlement.due_at = (
        an_hour_ago,
        settlement.created_at,
        settlement.created_at,
    )
    db.session.commit()
    scheduler.DeadlineScheduler(app).run_once()  # not started: one run by hand
    assert settlement_of(db, project).status == "completed" and operations(db, "payout") == 1


def test_chargebacks_booked_while_the_reserve_is_held_come_out_of_the_reserve(make, db, config):
    config.update(PAYOUT_RESERVE_BPS=1000, PAYOUT_RESERVE_DAYS=90)
    project, held = reward_campaign(make, db, goal="50", backers=3)
    close(db, project)
    settlement = settlement_of(db, project)
    reserve = settlement.reserve_amount
    # A chargeback after the payout, taken from the firm's payable account (as disputes book it).
    ledger.transfer(
        f"pledge:{held[0].id}:dispute:net",
        ledger.firm_payable_key(project.firm_id, "USD"),
        ledger.clearing_key("USD"),
        500,
        "USD",
        "dispute_net",
        pledge_id=held[0].id,
    )
    db.session.commit()
    assert statements.statement(project)["reserved"] == reserve - 500  # what is left of it
    assert settlement_workflow.settle(project.id, now=settlement.reserve_due_at) == "completed"
    settlement = settlement_of(db, project)
    assert settlement.reserve_amount == reserve - 500
    assert db.session.get(SandboxOperation, settlement.reserve_ref).amount == reserve - 500
    assert ledger.balance(ledger.firm_payable_key(project.firm_id, "USD")) == 0  # never paid more than owed
