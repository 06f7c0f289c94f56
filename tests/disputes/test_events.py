"""Dispute webhooks only make us look again: twice, late, out of order, before the payment's
own, or while the processor does not answer, the books end the same."""

import json

from sqlalchemy import func, select

from crowdfund.models import Dispute, LedgerTransfer, OutboxMessage, Pledge, SandboxOperation, SandboxWebhookEvent
from crowdfund.payments import get_gateway
from crowdfund.services.pledges import charge_key
from crowdfund.workflows import checkout
from tests.disputes.helpers import (
    books_agree,
    decide,
    deliver,
    dispute_of,
    identity_holds,
    pledge_to_dispute,
    sandbox_dispute,
)
from tests.support.settlement import reward_campaign


def undelivered(db):
    db.session.rollback()
    return db.session.scalars(
        select(SandboxWebhookEvent)
        .where(SandboxWebhookEvent.delivered_at.is_(None))
        .order_by(SandboxWebhookEvent.created_at, SandboxWebhookEvent.id)
    ).all()


def post(client, app, event):
    body = json.dumps(event.payload, separators=(",", ":")).encode()
    return client.post(
        "/webhooks/sandbox",
        data=body,
        content_type="application/json",
        headers={"Sandbox-Signature": get_gateway(app).sign(body)},
    )


def codes(db, pledge):
    return sorted(db.session.scalars(select(LedgerTransfer.code).where(LedgerTransfer.pledge_id == pledge.id)))


def test_events_twice_and_the_close_before_the_open_end_in_the_same_books(app, client, make, db):
    project, _held = reward_campaign(make, db, goal="5000", backers=1)
    pledge = pledge_to_dispute(make, project)
    ref = db.session.scalar(select(SandboxOperation.id).where(SandboxOperation.kind == "dispute"))
    get_gateway(app).decide_dispute(ref, "won")  # decided before any of its events reached us
    events = [event for event in undelivered(db) if event.type.startswith("charge.dispute.")]
    events.sort(key=lambda event: event.type == "charge.dispute.created")  # the opening last
    assert [event.type for event in events][-1] == "charge.dispute.created" and {event.type for event in events} == {
        "charge.dispute.created",
        "charge.dispute.funds_reinstated",
        "charge.dispute.closed",
    }
    for event in events + events:  # the close before the open, each twice
        response = post(client, app, event)
        assert response.status_code == 200, response.get_data(as_text=True)
    dispute = dispute_of(db, pledge)
    assert (dispute.status, dispute.booked) == ("won", True)
    assert db.session.get(Pledge, pledge.id).status == "held"
    assert codes(db, pledge) == ["dispute_escrow", "dispute_fee", "dispute_won_escrow", "pledge_hold", "processor_fee"]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.dedupe_key.like(f"dispute_opened:{dispute.id}:%"))
        )
        >= 1
    )
    books_agree(app, db)
    deliver(app, db)  # the sandbox sends them all once more: nothing changes
    assert codes(db, pledge) == ["dispute_escrow", "dispute_fee", "dispute_won_escrow", "pledge_hold", "processor_fee"]
    books_agree(app, db)
    assert identity_holds(project)["disputed"] == 0


def test_the_evidence_sent_is_an_update_and_a_chaotic_delivery_still_agrees(app, client, make, db, monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOK_CHAOS", 7)
    project, _held = reward_campaign(make, db, goal="5000", backers=1)
    pledges = [pledge_to_dispute(make, project, name=f"Backer {i}") for i in range(3)]
    refs = [sandbox_dispute(db, pledge).id for pledge in pledges]
    deliver(app, db)
    decide(client, refs[0], "under_review")
    decide(client, refs[1], "won")
    decide(client, refs[2], "lost")
    for minutes in range(1, 8):  # chaos holds some back for a later run
        deliver(app, db, seconds=60 * minutes)
    assert undelivered(db) == []
    assert [dispute_of(db, pledge).status for pledge in pledges] == ["under_review", "won", "lost"]
    assert [db.session.get(Pledge, pledge.id).status for pledge in pledges] == ["disputed", "held", "disputed"]
    books_agree(app, db)
    assert identity_holds(project)["disputed"] == 2 * 2_500


def test_a_dispute_before_our_books_saw_the_payment_first_settles_the_payment(app, make, db, sandbox, monkeypatch):
    project, _held = reward_campaign(make, db, goal="5000", backers=1)
    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOKS", False)  # the payment's own webhook is lost
    sandbox.faults.configure(fail_next=1, kinds={"charge"}, after_commit=True)  # and the charge call's reply
    pledge = checkout.place_pledge(
        make.user(),
        project,
        idempotency_key="attempt-lost-reply",
        payment_method="pm_card_createDispute",
        tier_id=project.tiers[0].id,
    )
    assert pledge.status == "pending" and pledge.charge_ref is None
    sandbox.faults.reset()
    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOKS", True)
    charge = db.session.scalar(
        select(SandboxOperation).where(SandboxOperation.idempotency_key == charge_key(pledge.id))
    )
    db.session.commit()
    # The sandbox opens its dispute (as when the charge call is replayed with its key).
    sandbox._dispute_later(
        {
            "id": charge.id,
            "payment_method": charge.payment_method,
            "status": charge.status,
            "amount": charge.amount,
            "currency": charge.currency,
        }
    )
    deliver(app, db)
    assert db.session.get(Pledge, pledge.id).status == "disputed"
    assert dispute_of(db, pledge).pledge_status_before == "held"
    books_agree(app, db)


def test_a_processor_that_does_not_answer_gets_the_event_again_later(app, make, db, sandbox):
    project, _held = reward_campaign(make, db, goal="5000", backers=1)
    pledge = pledge_to_dispute(make, project)
    sandbox.faults.configure(fail_next=1, kinds={"retrieve"})
    report = deliver(app, db)
    assert report.failed == 1 and dispute_of(db, pledge) is None
    assert db.session.get(Pledge, pledge.id).status == "held"
    sandbox.faults.reset()
    deliver(app, db, seconds=600)  # its retry
    assert dispute_of(db, pledge).status == "needs_response"
    assert db.session.get(Pledge, pledge.id).status == "disputed"
    books_agree(app, db)


def test_an_event_naming_no_dispute_of_the_processor_is_recorded_and_ignored(app, client, db):
    body = json.dumps(
        {
            "id": "evt_sbx_nodispute",
            "object": "event",
            "type": "charge.dispute.created",
            "data": {"object": {"id": "dp_sbx_doesnotexist", "object": "dispute"}},
        }
    ).encode()
    response = client.post(
        "/webhooks/sandbox",
        data=body,
        content_type="application/json",
        headers={"Sandbox-Signature": get_gateway(app).sign(body)},
    )
    assert response.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Dispute)) == 0
