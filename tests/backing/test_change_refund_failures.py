"""A refund a pledge change made that the backer's bank refuses later (`refund.failed`) goes
the failed-refund way: booked back to refunds_owed, listed for an admin, the backer mailed,
retried by an admin under a new key; the pledge stays held and `flask ledger verify` passes."""

from sqlalchemy import select

from crowdfund import ledger
from crowdfund.jobs.sandbox_webhooks import deliver_due
from crowdfund.models import LedgerTransfer, OutboxMessage, Pledge, PledgeChange, SandboxOperation
from crowdfund.workflows import checkout, pledge_change, refund_failures
from tests.conftest import csrf_token


def held_pledge(make, db, project, tier, quantity):
    pledge = checkout.place_pledge(
        make.user(name="Bo Backer"),
        project,
        idempotency_key=f"change-refund-{tier.id}-{quantity}",
        payment_method="pm_card_visa",
        tier_id=tier.id,
        quantity=quantity,
    )
    assert pledge.status == "held"
    db.session.commit()
    return pledge


def change(db, pledge, data):
    changed = pledge_change.change_pledge(pledge.backer, pledge.id, data)
    db.session.commit()
    return changed, db.session.scalar(select(PledgeChange).where(PledgeChange.pledge_id == pledge.id))


def bank_refuses(app, db, sandbox, refund_ref):
    db.session.rollback()
    sandbox.fail_refund(refund_ref)
    db.session.commit()
    report = deliver_due(app, None)
    db.session.rollback()
    db.session.expire_all()
    return report


def verify_ok(app, db):
    db.session.expire_all()
    assert ledger.verify() == []
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    db.session.rollback()


def owed():
    return ledger.balance(ledger.refunds_owed_key("USD"))


def test_a_refused_downgrade_refund_is_owed_listed_mailed_and_retried(app, make, db, sandbox, client, login):
    project = make.live_project()
    tier = project.tiers[0]  # 25.00
    pledge = held_pledge(make, db, project, tier, 3)
    pledge_id = pledge.id
    smaller, row = change(db, pledge, {"quantity": 1})
    assert smaller.amount == 2500 and row.status == "done" and row.refund_ref
    verify_ok(app, db)

    report = bank_refuses(app, db, sandbox, row.refund_ref)
    assert report.delivered >= 1
    row = db.session.get(PledgeChange, row.id)
    pledge = db.session.get(Pledge, pledge_id)
    assert row.status == "refund_failed" and row.failure_code == "expired_or_canceled_card"
    assert pledge.status == "held" and pledge.amount == 2500 and not pledge.parked  # it settles as any other
    failed = db.session.get(LedgerTransfer, ledger.change_refund_failed_id(pledge_id, row.number, 1))
    assert (failed.code, failed.amount) == ("refund_failed", 5000)
    assert owed() == 5000
    assert refund_failures.attempts(pledge_id) == (0, 0)  # the pledge's own refund did not fail
    [mail] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"refund_failed:{pledge_id}:%"))
    ).all()
    assert "did not go through" in mail.body_text and "$50.00" in mail.body_text
    verify_ok(app, db)

    # The same news again books nothing.
    refund_failures.record_failure(sandbox.retrieve_refund(row.refund_ref))
    assert owed() == 5000
    verify_ok(app, db)

    login(make.admin())
    db.session.commit()
    page = client.get("/admin/settlements").get_data(as_text=True)
    assert "Refunds of pledge changes the bank refused" in page and f"#{pledge_id}" in page and "$50.00" in page
    chinese = client.get("/admin/settlements", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Refunds of pledge changes" not in chinese
    retried = client.post(
        f"/admin/settlements/changes/{row.id}/retry", data={"csrf_token": csrf_token(client, "/admin/settlements")}
    )
    assert retried.status_code == 302
    db.session.rollback()
    db.session.expire_all()
    row = db.session.get(PledgeChange, row.id)
    assert row.status == "done"
    sent_again = db.session.get(SandboxOperation, row.refund_ref)
    assert (sent_again.idempotency_key, sent_again.amount) == (f"pledge-{pledge_id}-change-1-refund-2", 5000)
    retry = db.session.get(LedgerTransfer, ledger.change_refund_retry_id(pledge_id, row.number, 1))
    assert (retry.code, retry.amount) == ("refund_retry", 5000)
    assert owed() == 0
    assert "Refunds of pledge changes" not in client.get("/admin/settlements").get_data(as_text=True)
    verify_ok(app, db)

    # The retry fails too: owed again, and listed again.
    bank_refuses(app, db, sandbox, row.refund_ref)
    assert db.session.get(PledgeChange, row.id).status == "refund_failed" and owed() == 5000
    verify_ok(app, db)


def test_a_refused_refund_of_the_old_charge_after_an_upgrade_is_owed_in_full(app, make, db, sandbox):
    project = make.live_project()
    tier = project.tiers[0]
    pledge = held_pledge(make, db, project, tier, 1)
    pledge_id = pledge.id
    larger, row = change(db, pledge, {"quantity": 2})
    assert larger.amount == 5000 and row.status == "done" and row.charge_ref != row.old_charge_ref
    bank_refuses(app, db, sandbox, row.refund_ref)
    assert db.session.get(PledgeChange, row.id).status == "refund_failed"
    assert db.session.get(Pledge, pledge_id).status == "held"
    assert owed() == 2500  # the old charge, refunded in full, came back
    verify_ok(app, db)
