"""A pledge's whole payment with Stripe as the processor (localstripe standing in for it):
the checkout, the backer's bank, Stripe's signed webhook, the return page and reconcile all
walk the same code as with the sandbox."""

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from crowdfund import ledger
from crowdfund.models import Pledge, RewardTier, utcnow
from crowdfund.payments.stripe_gateway import StripeGateway
from crowdfund.workflows import checkout, reconcile
from tests.payments.conftest import stripe_config_app, stripe_signature
from tests.payments.test_stripe_localstripe import DAY, advance_clock, secure_card, visit_bank_page
from tests.support.builders import live_reward_project


@pytest.fixture()
def stripe_live(stripe_app, localstripe, db):
    """The Stripe-configured app, its gateway talking to localstripe, for one test."""
    # Pledge ids start again with each test's database, but localstripe lives for the whole
    # session: as Stripe would after a day, it forgets the keys (pledge-<id>) of earlier tests.
    advance_clock(localstripe, DAY + 1)
    saved = stripe_app.extensions.get("payment_gateway")
    stripe_app.extensions["payment_gateway"] = StripeGateway(stripe_config_app(STRIPE_API_BASE=localstripe))
    yield stripe_app
    stripe_app.extensions["payment_gateway"] = saved


def place(stripe_live, make, db, method):
    project = live_reward_project(make, db, currency="GBP", tiers=[{"title": "Mug", "price": 1_500, "quantity": 10}])
    backer = make.user()
    with stripe_live.app_context():
        pledge = checkout.place_pledge(
            db.session.merge(backer),
            project,
            idempotency_key=f"attempt-{uuid.uuid4().hex[:12]}",
            payment_method=method,
            tier_id=project.tiers[0].id,
            quantity=1,
            return_url=lambda pledge_id: f"https://crowdfund.test/pledges/{pledge_id}/return",
        )
        return project, pledge.id, pledge.status, pledge.next_action, pledge.charge_ref


def stripe_event(stripe_admin, intent_id, event_type="payment_intent.succeeded"):
    """The event Stripe sends: the PaymentIntent as it is, signed with the endpoint's secret."""
    intent = stripe_admin.v1.payment_intents.retrieve(intent_id).to_dict()
    payload = json.dumps(
        {"id": f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "type": event_type, "data": {"object": intent}}
    ).encode()
    return payload, {"Stripe-Signature": stripe_signature(payload)}


def status_of(db, pledge_id):
    db.session.rollback()
    return db.session.get(Pledge, pledge_id, populate_existing=True)


def test_a_card_pledge_is_held_at_once(stripe_live, stripe_admin, make, db):
    _, pledge_id, status, action, ref = place(stripe_live, make, db, "pm_card_visa")
    assert (status, action) == ("held", None)
    assert stripe_admin.v1.payment_intents.retrieve(ref).status == "succeeded"
    assert ledger.verify() == []


def test_3d_secure_then_stripes_webhook_holds_the_pledge_once(stripe_live, stripe_admin, make, db):
    _, pledge_id, status, action, ref = place(stripe_live, make, db, secure_card(stripe_admin))
    assert status == "requires_action" and action["type"] == "redirect_to_url"
    visit_bank_page(action["url"], "complete")
    payload, headers = stripe_event(stripe_admin, ref)
    client = stripe_live.test_client()
    for _ in range(2):  # delivered twice, as Stripe may
        answer = client.post("/webhooks/stripe", data=payload, content_type="application/json", headers=headers)
        assert answer.status_code == 200
    pledge = status_of(db, pledge_id)
    assert pledge.status == "held" and pledge.charge_ref == ref
    assert ledger.verify() == []


def test_a_failed_3d_secure_check_fails_the_pledge_and_frees_the_unit(stripe_live, stripe_admin, make, db):
    project, pledge_id, _, action, ref = place(stripe_live, make, db, secure_card(stripe_admin))
    visit_bank_page(action["url"], "fail")
    payload, headers = stripe_event(stripe_admin, ref, "payment_intent.payment_failed")
    assert (
        stripe_live.test_client()
        .post("/webhooks/stripe", data=payload, content_type="application/json", headers=headers)
        .status_code
        == 200
    )
    pledge = status_of(db, pledge_id)
    assert (pledge.status, pledge.failure_code) == ("failed", "authentication_failed")
    assert db.session.scalar(select(RewardTier.sold).where(RewardTier.project_id == project.id)) == 0
    assert ledger.verify() == []


def test_an_abandoned_3d_secure_payment_is_cancelled_at_stripe(stripe_live, stripe_admin, make, db):
    _, pledge_id, _, _, ref = place(stripe_live, make, db, secure_card(stripe_admin))
    with stripe_live.app_context():
        later = utcnow() + timedelta(seconds=stripe_live.config["PLEDGE_ACTION_TIMEOUT"] + 1)
        assert reconcile.reconcile_pending(timedelta(0), now=later)["expired"] == 1
    assert status_of(db, pledge_id).failure_code == "action_expired"
    assert stripe_admin.v1.payment_intents.retrieve(ref).status == "canceled"
    assert ledger.verify() == []
