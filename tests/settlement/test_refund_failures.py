"""A refund the backer's bank refuses after the processor took it: booked back (refunds_owed),
parked for an admin with its reason, the backer mailed, and retried under a new key, with
`ledger verify` and `flask ledger reconcile` passing after every step."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowdfund import after_commit, ledger
from crowdfund.errors import Conflict
from crowdfund.jobs.sandbox_webhooks import deliver_due
from crowdfund.jobs.settlement import resume
from crowdfund.models import LedgerTransfer, OutboxMessage, Pledge, SandboxOperation, utcnow
from crowdfund.payments import TransientGatewayError
from crowdfund.services import statements
from crowdfund.services.campaigns import close_due
from crowdfund.workflows import cancel, checkout, refund_failures, settlement as settlement_workflow
from tests.conftest import csrf_token
from tests.support.builders import live_reward_project
from tests.support.settlement import assert_ledger_ok, close, reward_campaign, statuses


def books_agree(app, db):
    assert_ledger_ok(db)
    result = app.test_cli_runner().invoke(args=["ledger", "reconcile"])
    assert result.exit_code == 0, result.output
    db.session.rollback()


def identity_holds(data):
    return (
        data["gross"] - data["refunded"]
        == data["in_escrow"] + data["fee"] + data["processor_fees_firm"] + data["paid_out"] + data["awaiting_payout"]
    )


def bank_refuses(app, db, sandbox, pledge_id, now=None):
    """The backer's bank refuses the pledge's latest refund; the processor's `refund.failed`
    webhook is delivered. Returns the pledge as our books have it then."""
    db.session.rollback()
    sandbox.fail_refund(db.session.get(Pledge, pledge_id).refund_ref)
    db.session.commit()
    report = deliver_due(app, now)
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Pledge, pledge_id), report


def refund_mails(db, pledge_id):
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.dedupe_key.like(f"refund_failed:{pledge_id}:%"))
        .order_by(OutboxMessage.id)
    ).all()


def admin_retries(db, pledge_id, admin):
    settlement_workflow.retry_parked(pledge_id, admin=admin)
    db.session.commit()
    after_commit.run()  # the retry_refund job, in-process
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Pledge, pledge_id)


def test_a_refund_that_fails_after_it_succeeded_is_parked_mailed_and_retried(app, make, db, sandbox, client, login):
    project, held = reward_campaign(make, db, goal="5000", backers=2)
    close(db, project)
    assert statuses(db, project) == {"refunded": 2}
    pledge_id, backer = held[0].id, held[0].backer
    first_ref = db.session.get(Pledge, pledge_id).refund_ref

    pledge, report = bank_refuses(app, db, sandbox, pledge_id)
    assert report.delivered >= 1
    assert pledge.status == "refunded" and pledge.parked
    assert pledge.settlement_error == f"refund_failed: expired_or_canceled_card ({first_ref})"
    [mail] = refund_mails(db, pledge_id)
    assert mail.to_address == backer.email and "did not go through" in mail.body_text
    assert "We are on it" in mail.body_text
    failed = db.session.get(LedgerTransfer, ledger.refund_failed_id(pledge_id, 1))
    assert (failed.amount, failed.code) == (2500, "refund_failed")
    assert ledger.balance(ledger.refunds_owed_key("USD")) == 2500
    data = statements.statement(project)
    assert data["refunds_owed"] == 2500 and data["refunded"] == 5000 and identity_holds(data)
    books_agree(app, db)

    # The same news again changes nothing.
    assert refund_failures.record_failure(sandbox.retrieve_refund(first_ref)).parked
    assert len(refund_mails(db, pledge_id)) == 1 and ledger.balance(ledger.refunds_owed_key("USD")) == 2500

    admin = login(make.admin())
    page = client.get("/admin/settlements").get_data(as_text=True)
    assert f"#{pledge_id}" in page and "refund_failed: expired_or_canceled_card" in page
    response = client.post(
        f"/admin/settlements/pledges/{pledge_id}/retry", data={"csrf_token": csrf_token(client, "/admin/settlements")}
    )
    assert response.status_code == 302
    db.session.rollback()
    db.session.expire_all()
    pledge = db.session.get(Pledge, pledge_id)
    assert not pledge.parked and pledge.settlement_error is None and pledge.refund_ref != first_ref
    second = db.session.get(SandboxOperation, pledge.refund_ref)
    assert (second.idempotency_key, second.status, second.amount) == (f"pledge-{pledge_id}-refund-2", "succeeded", 2500)
    assert db.session.get(LedgerTransfer, ledger.refund_retry_id(pledge_id, 2)).code == "refund_retry"
    data = statements.statement(project)
    assert data["refunds_owed"] == 0 and identity_holds(data)
    books_agree(app, db)

    # The retry is refused later too: attempt 2 fails, is parked again and mailed again.
    pledge, _ = bank_refuses(app, db, sandbox, pledge_id)
    assert pledge.parked and pledge.settlement_attempts == 2 and len(refund_mails(db, pledge_id)) == 2
    books_agree(app, db)
    pledge = admin_retries(db, pledge_id, admin)
    assert db.session.get(SandboxOperation, pledge.refund_ref).idempotency_key == f"pledge-{pledge_id}-refund-3"
    assert ledger.balance(ledger.refunds_owed_key("USD")) == 0
    books_agree(app, db)


def test_a_cancelled_pledges_failed_refund_is_followed_up_too(app, make, db, sandbox):
    project, held = reward_campaign(make, db, goal="5000", backers=2)
    cancel.cancel_pledge(held[0].backer, held[0].id)
    pledge, _ = bank_refuses(app, db, sandbox, held[0].id)
    assert pledge.status == "cancelled" and pledge.parked
    assert statements.statement(project)["refunds_owed"] == 2500
    books_agree(app, db)
    pledge = admin_retries(db, pledge.id, make.admin())
    assert not pledge.parked and statements.statement(project)["refunds_owed"] == 0
    books_agree(app, db)


def test_a_late_payments_failed_refund_is_followed_up_too(app, make, db, sandbox):
    project = live_reward_project(make, db, tiers=[{"title": "Cup", "price": 1_000, "quantity": 5}])
    pledge = checkout.place_pledge(
        make.user(),
        project,
        idempotency_key="attempt-late-refund",
        payment_method="pm_alipay",
        tier_id=project.tiers[0].id,
    )
    project.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
    sandbox.complete(pledge.charge_ref, succeed=True)  # paid after the campaign closed
    with pytest.raises(Conflict):
        checkout.check_payment(pledge.id)  # refunded at once, the pledge failed
    pledge, _ = bank_refuses(app, db, sandbox, pledge.id)
    assert pledge.status == "failed" and pledge.parked
    books_agree(app, db)
    pledge = admin_retries(db, pledge.id, make.admin())
    assert not pledge.parked
    books_agree(app, db)


def test_news_of_a_refund_our_books_have_not_booked_yet_is_asked_for_again(app, make, db, sandbox):
    project, held = reward_campaign(make, db, goal="5000", backers=1)
    close_due(now=project.deadline + timedelta(seconds=1))
    db.session.commit()
    db.session.info.clear()  # the settlement dies before it starts
    pledge = held[0]
    # The settlement had the refund made, then died before booking it; the bank refuses it.
    refund = sandbox.refund(
        charge_ref=pledge.charge_ref, amount=pledge.amount, currency="USD", idempotency_key=f"pledge-{pledge.id}-refund"
    )
    sandbox.fail_refund(refund.ref)
    db.session.commit()
    start = utcnow()
    assert deliver_due(app, start).failed >= 1  # 503: our books do not have that refund yet
    with pytest.raises(TransientGatewayError):
        refund_failures.record_failure(sandbox.retrieve_refund(refund.ref))
    assert settlement_workflow.settle(project.id) == "completed"  # replays the refund, books it
    assert deliver_due(app, start + timedelta(minutes=1)).delivered >= 1
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Pledge, pledge.id).parked
    books_agree(app, db)


def test_a_retry_refused_at_once_is_parked_again_and_a_lost_one_resumed(app, make, db, sandbox):
    project, held = reward_campaign(make, db, goal="5000", backers=1)
    close(db, project)
    pledge, _ = bank_refuses(app, db, sandbox, held[0].id)
    admin = make.admin()
    sandbox.faults.refuse("refund", "charge_expired_for_refund")
    pledge = admin_retries(db, pledge.id, admin)
    assert pledge.parked and pledge.settlement_error.startswith("charge_expired_for_refund:")
    books_agree(app, db)

    refused = db.session.scalar(
        select(SandboxOperation).where(SandboxOperation.idempotency_key == f"pledge-{pledge.id}-refund-2")
    )
    assert refused.status == "refused" and pledge.settlement_attempts == 2  # that key is used up

    sandbox.faults.configure(fail_next=1, kinds={"refund"})  # the processor does not answer
    pledge = admin_retries(db, pledge.id, admin)
    assert not pledge.parked and "injected" in pledge.settlement_error  # left for the next resume
    assert refund_failures.waiting_for_retry() == [pledge.id]
    assert resume() == {"settlements": 0, "refunds": 1}
    db.session.expire_all()
    pledge = db.session.get(Pledge, pledge.id)
    assert pledge.settlement_error is None and refund_failures.waiting_for_retry() == []
    # The lost answer was asked again under the same key; the refusal's key was not used again.
    assert db.session.get(SandboxOperation, pledge.refund_ref).idempotency_key == f"pledge-{pledge.id}-refund-3"
    books_agree(app, db)


def test_a_retry_that_fails_before_our_books_have_it_is_asked_for_again(app, make, db, sandbox):
    project, held = reward_campaign(make, db, goal="5000", backers=1)
    close(db, project)
    pledge, _ = bank_refuses(app, db, sandbox, held[0].id)
    first_ref = pledge.refund_ref
    settlement_workflow.retry_parked(pledge.id, admin=make.admin())
    db.session.commit()
    db.session.info.clear()  # the retry job has not run yet: do its processor call by hand
    second = sandbox.refund(
        charge_ref=pledge.charge_ref,
        amount=pledge.amount,
        currency="USD",
        idempotency_key=f"pledge-{pledge.id}-refund-2",
    )
    sandbox.fail_refund(second.ref)
    with pytest.raises(TransientGatewayError):  # the webhook answers 503: comes again later
        refund_failures.record_failure(sandbox.retrieve_refund(second.ref))
    assert refund_failures.retry(pledge.id) == "refunded"  # replays that refund and books it
    pledge = refund_failures.record_failure(sandbox.retrieve_refund(second.ref))
    assert pledge.parked and refund_failures.attempts(pledge.id) == (2, 1)
    assert pledge.refund_ref == second.ref != first_ref
    refund_failures.record_failure(sandbox.retrieve_refund(first_ref))
    assert refund_failures.attempts(pledge.id) == (2, 1)  # news about an older refund books nothing
    books_agree(app, db)


def test_only_a_refund_that_failed_can_be_retried_by_an_admin(make, db):
    project, held = reward_campaign(make, db, goal="5000", backers=1)
    close(db, project)
    with pytest.raises(Conflict):
        settlement_workflow.retry_parked(held[0].id, admin=make.admin())
