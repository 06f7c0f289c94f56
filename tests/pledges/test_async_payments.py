"""Payments that finish after the charge call: 3-D Secure, Alipay, WeChat Pay.

The sandbox stands in for the processor: its own page stands in for the bank or wallet
(`next_action.url`), and it delivers signed webhooks to our endpoint after its commit.
Each story ends with `ledger verify` clean and the units where they belong.
"""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from crowdfund import ledger
from crowdfund.models import OutboxMessage, Pledge, RewardTier, SandboxOperation, utcnow
from crowdfund.workflows import checkout, reconcile
from tests.support.builders import charges, live_reward_project, refunds

ASYNC_METHODS = ["pm_card_threeDSecure2Required", "pm_card_authenticationRequired", "pm_alipay", "pm_wechat_pay"]


def tier_project(make, db, **kwargs):
    return live_reward_project(make, db, tiers=[{"title": "Teapot", "price": 12_000, "quantity": 5}], **kwargs)


def pledge_with(make, db, project, method, key="attempt-async-0001"):
    backer = make.user()
    pledge = checkout.place_pledge(
        backer, project, idempotency_key=key, payment_method=method, tier_id=project.tiers[0].id, quantity=2
    )
    return backer, pledge


def sold(db, project):
    db.session.rollback()
    return db.session.scalar(select(RewardTier.sold).where(RewardTier.project_id == project.id))


def fresh(db, pledge_id):
    db.session.rollback()
    return db.session.get(Pledge, pledge_id, populate_existing=True)


def act(client, pledge, outcome):
    """The backer on the bank's (the sandbox's) page presses a button."""
    return client.post(urlsplit(pledge.next_action["url"]).path, data={"outcome": outcome})


def mails_to(db, email):
    db.session.rollback()
    return db.session.scalars(select(OutboxMessage.subject).where(OutboxMessage.to_address == email)).all()


@pytest.mark.parametrize("method", ASYNC_METHODS)
def test_a_payment_that_needs_the_backer_waits_then_is_held_once_they_complete_it(client, make, db, method):
    project = tier_project(make, db)
    backer, pledge = pledge_with(make, db, project, method)
    assert pledge.status == "requires_action"
    assert pledge.next_action["url"] and "/sandbox/pay/" in pledge.next_action["url"]
    assert pledge.charge_ref  # kept: the webhook, the return page and reconcile ask about it
    assert sold(db, project) == 2  # the units are kept for the backer meanwhile
    assert charges(db) == 0 and ledger.verify() == []
    assert act(client, pledge, "succeed").status_code in (200, 303)  # "done", or back to our return page
    pledge = fresh(db, pledge.id)
    assert pledge.status == "held" and pledge.next_action is None
    assert charges(db) == 1 and ledger.verify() == []
    assert any("Your pledge to" in subject for subject in mails_to(db, backer.email))


@pytest.mark.parametrize("method", ASYNC_METHODS)
def test_a_failed_authentication_fails_the_pledge_and_gives_the_units_back(client, make, db, method):
    project = tier_project(make, db)
    _, pledge = pledge_with(make, db, project, method)
    act(client, pledge, "fail")
    pledge = fresh(db, pledge.id)
    assert pledge.status == "failed" and pledge.failure_code in ("authentication_failed", "payment_failed")
    assert sold(db, project) == 0 and charges(db) == 0 and ledger.verify() == []


def test_an_abandoned_authentication_expires_the_pledge_at_reconcile(client, app, make, db):
    project = tier_project(make, db)
    backer, pledge = pledge_with(make, db, project, "pm_card_threeDSecure2Required")
    bank_page = pledge.next_action["url"]
    # Before the timeout reconcile only looks: the backer may still be at their bank.
    assert reconcile.reconcile_pending(timedelta(0))["still_pending"] == 1
    assert fresh(db, pledge.id).status == "requires_action"
    later = utcnow() + timedelta(seconds=app.config["PLEDGE_ACTION_TIMEOUT"] + 1)
    assert reconcile.reconcile_pending(timedelta(0), now=later)["expired"] == 1
    pledge = fresh(db, pledge.id)
    assert pledge.status == "failed" and pledge.failure_code == "action_expired"
    assert sold(db, project) == 0
    operation = db.session.get(SandboxOperation, pledge.charge_ref)
    assert operation.status == "canceled"  # cancelled at the processor: the bank page can no longer take money
    client.post(urlsplit(bank_page).path, data={"outcome": "succeed"})  # too late: it was cancelled
    assert fresh(db, pledge.id).status == "failed" and charges(db) == 0
    assert any("was not completed" in subject for subject in mails_to(db, backer.email))
    assert ledger.verify() == []


def test_a_backer_who_pays_after_the_deadline_is_refunded_at_once(client, make, db):
    project = tier_project(make, db)
    _, pledge = pledge_with(make, db, project, "pm_alipay")
    project.deadline = utcnow() - timedelta(seconds=1)  # the campaign ended while they were away
    db.session.commit()
    act(client, pledge, "succeed")
    pledge = fresh(db, pledge.id)
    assert pledge.status == "failed" and pledge.failure_code == "project_not_live"
    assert pledge.refund_ref and refunds(db) == 1 and charges(db) == 1
    assert sold(db, project) == 0 and ledger.verify() == []


def test_the_return_page_finishes_the_pledge_when_the_webhook_is_late(client, app, make, login, db, monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOKS", False)  # no webhook at all: the return page alone
    project = tier_project(make, db)
    backer = login(make.user())
    pledge = checkout.place_pledge(
        backer,
        project,
        idempotency_key="attempt-return-page",
        payment_method="pm_card_threeDSecure2Required",
        tier_id=project.tiers[0].id,
        quantity=1,
        return_url=lambda pledge_id: f"http://localhost/pledges/{pledge_id}/return",
    )
    page = act(client, pledge, "succeed")
    assert urlsplit(page.headers["Location"]).path == f"/pledges/{pledge.id}/return"
    assert fresh(db, pledge.id).status == "requires_action"  # nobody has looked yet
    receipt = client.get(f"/pledges/{pledge.id}/return", follow_redirects=True).get_data(as_text=True)
    assert "held in escrow" in receipt
    assert fresh(db, pledge.id).status == "held" and ledger.verify() == []


def test_duplicated_and_reordered_webhooks_change_nothing_more(client, app, make, db, monkeypatch):
    from crowdfund.jobs.sandbox_webhooks import deliver_due

    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOK_CHAOS", True)
    project = live_reward_project(make, db, tiers=[{"title": "Cup", "price": 1_000, "quantity": 50}])
    outcomes = {}
    for n, (method, outcome) in enumerate(
        [
            ("pm_card_threeDSecure2Required", "succeed"),
            ("pm_alipay", "fail"),
            ("pm_wechat_pay", "succeed"),
            ("pm_card_visa", None),
            ("pm_card_authenticationRequired", "fail"),
        ]
    ):
        _, pledge = pledge_with(make, db, project, method, key=f"attempt-chaos-{n:04d}")
        if outcome:
            act(client, pledge, outcome)
        outcomes[pledge.id] = "held" if outcome in (None, "succeed") else "failed"
    for _ in range(5):  # the held-back and repeated deliveries
        deliver_due(app, now=utcnow() + timedelta(hours=1))
    db.session.rollback()
    statuses = dict(db.session.execute(select(Pledge.id, Pledge.status)).all())
    assert statuses == outcomes
    assert sold(db, project) == sum(2 for status in outcomes.values() if status == "held")
    assert ledger.verify() == []


def test_a_lost_charge_reply_is_finished_by_reconcile_without_a_second_charge(make, db, sandbox):
    project = tier_project(make, db)
    sandbox.faults.configure(fail_next=1, kinds={"charge"}, after_commit=True)  # charged; the reply is lost
    _, pledge = pledge_with(make, db, project, "pm_card_visa")
    assert pledge.status == "pending" and pledge.charge_ref is None
    assert reconcile.reconcile_pending(timedelta(0))["held"] == 1
    assert fresh(db, pledge.id).status == "held" and charges(db) == 1 and ledger.verify() == []


def test_past_the_processors_memory_reconcile_looks_the_payment_up_instead(app, make, db, sandbox):
    project = tier_project(make, db)
    sandbox.faults.configure(fail_next=1, kinds={"charge"}, after_commit=True)
    _, paid = pledge_with(make, db, project, "pm_card_visa", key="attempt-lost-paid")
    sandbox.faults.configure(fail_next=1, kinds={"charge"}, after_commit=False)  # never reached the processor
    _, unpaid = pledge_with(make, db, project, "pm_card_visa", key="attempt-lost-never")
    two_days = utcnow() + timedelta(days=2)
    summary = reconcile.reconcile_pending(timedelta(0), now=two_days)
    assert (summary["held"], summary["failed"]) == (1, 1)
    assert fresh(db, paid.id).status == "held"
    assert fresh(db, unpaid.id).failure_code == "payment_not_found"
    assert charges(db) == 1 and sold(db, project) == 2 and ledger.verify() == []


def test_the_scheduler_expires_abandoned_payments_without_anyone_running_a_command(app, make, db, monkeypatch):
    from crowdfund.jobs import scheduler

    project = tier_project(make, db)
    _, pledge = pledge_with(make, db, project, "pm_wechat_pay")
    monkeypatch.setitem(app.config, "PLEDGE_ACTION_TIMEOUT", 0)  # as if the hour had passed
    scheduler.DeadlineScheduler(app).run_once()  # not started: one run by hand
    pledge = fresh(db, pledge.id)
    assert (pledge.status, pledge.failure_code) == ("failed", "action_expired")
    assert sold(db, project) == 0 and ledger.verify() == []


@pytest.mark.postgres_only
def test_the_webhook_the_return_page_and_reconcile_at_the_same_moment_hold_the_money_once(app, make, db, monkeypatch):
    from tests.support.builders import race

    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOKS", False)  # the three lookers are the test's own
    project = tier_project(make, db)
    _, pledge = pledge_with(make, db, project, "pm_card_threeDSecure2Required")
    from crowdfund.payments import get_gateway

    get_gateway(app).complete(pledge.charge_ref, succeed=True)  # the backer authenticated
    outcomes = race(app, 3, lambda i: checkout.check_payment(pledge.id).status)
    assert outcomes == ["held"] * 3
    pledge = fresh(db, pledge.id)
    assert pledge.status == "held" and charges(db) == 1
    assert db.session.get(type(project), project.id, populate_existing=True).backer_count == 1
    assert ledger.verify() == []


def test_a_signed_event_naming_another_payment_holds_nothing(client, app, make, db, sandbox):
    import json

    project = tier_project(make, db)
    sandbox.faults.configure(fail_next=1, kinds={"charge"})  # never reached the processor: no reference
    _, lost = pledge_with(make, db, project, "pm_card_visa", key="attempt-no-reference")
    _, other = pledge_with(make, db, live_reward_project(make, db), "pm_card_visa", key="attempt-other-payment")
    assert lost.charge_ref is None and other.status == "held" and other.amount != lost.amount
    # A genuine event of the other payment, its metadata pointing at our pledge.
    payload = json.dumps(
        {
            "id": "evt_sbx_confused",
            "object": "event",
            "type": "payment_intent.succeeded",
            "data": {
                "object": {"id": other.charge_ref, "object": "payment_intent", "metadata": {"pledge_id": str(lost.id)}}
            },
        }
    ).encode()
    answer = client.post(
        "/webhooks/sandbox",
        data=payload,
        content_type="application/json",
        headers={"Sandbox-Signature": sandbox.sign(payload)},
    )
    assert answer.status_code == 200
    assert fresh(db, lost.id).status == "pending"  # the amounts differ: not this pledge's payment
    assert ledger.verify() == []
