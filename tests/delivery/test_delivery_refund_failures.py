"""The refund of a held remainder (an admin refunded it after a reported problem) that the
backer's bank refuses later: the processor's `refund.failed` webhook routes it into the
failed-refund flow (workflows/refund_failures.py) for that remainder: booked back to
refunds_owed, the pledge parked for an admin with the reason, the backer mailed the amount,
and retried by an admin under a new key. verify, reconcile and the statement's identity
hold after every step."""

from sqlalchemy import select

from crowdfund import after_commit, ledger
from crowdfund.jobs.sandbox_webhooks import deliver_due
from crowdfund.models import LedgerTransfer, OutboxMessage, Pledge, SandboxOperation
from crowdfund.workflows import refund_failures, settlement as settlement_workflow
from tests.delivery.conftest import assert_identity, on_delivery_campaign, statement_of
from tests.delivery.test_delivery_disputes import delivery, ok
from tests.disputes.helpers import books_agree
from tests.support.settlement import close

HELD = 1188  # of a 25.00 pledge: the net after the 5% fee, less the half paid at success


def refund_mails(db, pledge_id):
    db.session.expire_all()
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"refund_failed:{pledge_id}:%"))
    ).all()


def checked(app, db, project):
    books_agree(app, db)
    data = statement_of(db, project)
    assert_identity(data)
    return data


def refunded_remainder(app, db, make, api):
    project, pledges = on_delivery_campaign(make, backers=3)
    pledge_id, backer = pledges[0].id, pledges[0].backer
    close(db, project)
    token = api.token_for(backer)
    ok(api.post(f"/pledges/{pledge_id}/report-problem", {"reason": "It never came."}, token=token))
    ok(api.post(f"/admin/pledges/{pledge_id}/delivery/refund", token=api.token_for(make.admin())))
    assert delivery(db, pledge_id).status == "refunded"
    checked(app, db, project)
    return project, pledge_id, backer


def bank_refuses(app, db, sandbox, ref):
    db.session.rollback()
    sandbox.fail_refund(ref)
    db.session.commit()
    deliver_due(app)
    db.session.rollback()
    db.session.expire_all()


def test_a_refused_delivery_refund_is_owed_parked_mailed_and_retried_under_a_new_key(
    app, db, make, api, sandbox, client, login
):
    project, pledge_id, backer = refunded_remainder(app, db, make, api)
    first_ref = delivery(db, pledge_id).refund_ref

    bank_refuses(app, db, sandbox, first_ref)
    pledge = db.session.get(Pledge, pledge_id)
    assert pledge.status == "released" and pledge.parked
    assert pledge.settlement_error == f"refund_failed: expired_or_canceled_card ({first_ref})"
    assert delivery(db, pledge_id).status == "refunded"  # owed to the backer, not held for the firm
    failed = db.session.get(LedgerTransfer, ledger.refund_failed_id(pledge_id, 1))
    assert (failed.amount, failed.code) == (HELD, "refund_failed")
    assert ledger.balance(ledger.refunds_owed_key("USD")) == HELD
    [mail] = refund_mails(db, pledge_id)
    assert mail.to_address == backer.email and "$11.88" in mail.body_text and "did not go through" in mail.body_text
    data = checked(app, db, project)
    assert data["refunds_owed"] == HELD and data["refunded"] == HELD

    # The same news again changes nothing.
    refund_failures.record_failure(sandbox.retrieve_refund(first_ref))
    db.session.rollback()
    assert len(refund_mails(db, pledge_id)) == 1 and ledger.balance(ledger.refunds_owed_key("USD")) == HELD

    # The admin sees it among the parked refunds and retries it: a new refund, under a new key.
    login(make.admin(email="refunds-admin@example.com"))
    page = client.get("/admin/settlements").get_data(as_text=True)
    assert f"#{pledge_id}" in page and "expired_or_canceled_card" in page
    db.session.rollback()
    settlement_workflow.retry_parked(pledge_id, admin=None)
    db.session.commit()
    after_commit.run()
    db.session.rollback()
    db.session.expire_all()
    pledge = db.session.get(Pledge, pledge_id)
    assert not pledge.parked and pledge.settlement_error is None
    second_ref = delivery(db, pledge_id).refund_ref
    assert second_ref != first_ref
    retried = db.session.scalar(select(SandboxOperation).where(SandboxOperation.id == second_ref))
    assert (retried.amount, retried.status) == (HELD, "succeeded")
    assert sandbox.retrieve_refund(second_ref).key == f"pledge-{pledge_id}-delivery-refund-2"
    assert ledger.balance(ledger.refunds_owed_key("USD")) == 0
    data = checked(app, db, project)
    assert data["refunds_owed"] == 0 and data["refunded"] == HELD

    # That one is refused too: owed again, a second mail, and the next try gets the next key.
    bank_refuses(app, db, sandbox, second_ref)
    assert db.session.get(Pledge, pledge_id).parked and len(refund_mails(db, pledge_id)) == 2
    assert ledger.balance(ledger.refunds_owed_key("USD")) == HELD
    checked(app, db, project)
