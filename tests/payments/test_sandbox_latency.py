"""SANDBOX_LATENCY: every call to the sandbox processor takes as long as a real one's round trip,
waited with no connection of the sandbox's own held; none by default."""

import time
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from crowdfund.models import SandboxOperation
from crowdfund.payments import RefundRequest, sandbox as sandbox_module
from crowdfund.payments.sandbox_disputes import DISPUTE_METHOD
from tests.support.builders import live_reward_project
from tests.support.factories import PASSWORD

LATENCY = 0.05


def key(label):
    return f"test:{label}:{uuid.uuid4().hex}"


def pay(gateway, method="pm_card_visa", amount=5000):
    return gateway.charge(
        amount=amount,
        currency="GBP",
        payment_method=method,
        idempotency_key=key("charge"),
        transfer_group="project-1",
        return_url="http://localhost/pledges/1/return",
    )


def processor_objects(gateway, db):
    """What the calls below act on, made while the sandbox answers at once."""
    paid = pay(gateway)
    waiting = pay(gateway, "pm_card_threeDSecure2Required")
    refund = gateway.refund(charge_ref=paid.ref, amount=100, currency="GBP", idempotency_key=key("refund"))
    account = gateway.create_account(firm_id=1, country="GB", email="firm@example.com", idempotency_key=key("account"))
    payout = gateway.payout(
        amount=1000, currency="GBP", destination=account, idempotency_key=key("payout"), transfer_group="project-1"
    )
    pay(gateway, DISPUTE_METHOD)
    db.session.rollback()  # see what the processor committed on its own connection
    dispute = db.session.scalars(select(SandboxOperation.id).where(SandboxOperation.kind == "dispute")).one()
    return SimpleNamespace(
        paid=paid.ref, waiting=waiting.ref, refund=refund.ref, account=account, payout=payout.ref, dispute=dispute
    )


# Every call our side makes to the processor, by name.
CALLS = {
    "charge": lambda g, o: pay(g),
    "retrieve": lambda g, o: g.retrieve(o.paid),
    "find_charge": lambda g, o: g.find_charge("test:charge:none"),
    "cancel": lambda g, o: g.cancel(o.waiting, idempotency_key=key("cancel")),
    "refund": lambda g, o: g.refund(charge_ref=o.paid, amount=100, currency="GBP", idempotency_key=key("refund")),
    "refund_many": lambda g, o: g.refund_many([RefundRequest(o.paid, 100, "GBP", key("refund"))]),
    "retrieve_refund": lambda g, o: g.retrieve_refund(o.refund),
    "payout": lambda g, o: g.payout(
        amount=500, currency="GBP", destination=o.account, idempotency_key=key("payout"), transfer_group="project-1"
    ),
    "reverse_payout": lambda g, o: g.reverse_payout(o.payout, amount=100, idempotency_key=key("reversal")),
    "create_account": lambda g, o: g.create_account(
        firm_id=2, country="GB", email="other@example.com", idempotency_key=key("account")
    ),
    "onboarding_link": lambda g, o: g.onboarding_link(
        o.account, return_url="http://localhost/back", refresh_url="http://localhost/again"
    ),
    "account_status": lambda g, o: g.account_status(o.account),
    "retrieve_dispute": lambda g, o: g.retrieve_dispute(o.dispute),
    "activity": lambda g, o: g.activity(),
}


class SleepRecorder:
    """Stands in for the sandbox module's `time`: records each wait and what was checked out
    from the connection pool meanwhile."""

    def __init__(self, pool, *, really=False):
        self.pool, self.really = pool, really
        self.waits, self.checked_out = [], []

    def sleep(self, seconds):
        self.waits.append(seconds)
        self.checked_out.append(self.pool.checkedout())
        if self.really:
            time.sleep(seconds)


@pytest.fixture()
def recorder(db, monkeypatch):
    recorder = SleepRecorder(db.engine.pool)
    monkeypatch.setattr(sandbox_module, "time", recorder)
    return recorder


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_call_to_the_processor_takes_its_latency(app, db, sandbox, monkeypatch, name):
    objects = processor_objects(sandbox, db)
    monkeypatch.setitem(app.config, "SANDBOX_LATENCY", LATENCY)
    monkeypatch.setitem(app.config, "SANDBOX_LATENCY_JITTER", 0)

    started = time.monotonic()
    CALLS[name](sandbox, objects)
    elapsed = time.monotonic() - started

    assert elapsed >= LATENCY, f"{name} answered in {elapsed:.3f} s"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_the_wait_holds_no_connection_of_the_sandboxs_own(app, db, sandbox, monkeypatch, recorder, name):
    objects = processor_objects(sandbox, db)
    db.session.rollback()
    monkeypatch.setitem(app.config, "SANDBOX_LATENCY", LATENCY)
    before = db.engine.pool.checkedout()

    CALLS[name](sandbox, objects)

    assert len(recorder.waits) == 1, recorder.waits  # one round trip per call
    assert recorder.checked_out == [before]


def test_the_latency_varies_by_its_jitter(app, db, sandbox, monkeypatch, recorder):
    monkeypatch.setitem(app.config, "SANDBOX_LATENCY", 0.3)
    monkeypatch.setitem(app.config, "SANDBOX_LATENCY_JITTER", 0.3)

    for _ in range(20):
        sandbox.retrieve(pay(sandbox).ref)

    assert len(recorder.waits) == 40
    assert all(0.21 <= wait <= 0.39 for wait in recorder.waits), recorder.waits
    assert len(set(recorder.waits)) > 30


def test_the_sandbox_answers_at_once_by_default(app, db, sandbox, recorder):
    assert app.config["SANDBOX_LATENCY"] == 0
    objects = processor_objects(sandbox, db)

    for call in CALLS.values():
        call(sandbox, objects)

    assert recorder.waits == []


def test_a_pledge_waits_for_the_processor_once(app, db, make, client, monkeypatch, recorder):
    """Over the JSON API, as a backer's client pledges: the charge is its one call to the processor."""
    project = live_reward_project(make, db)
    backer = make.user()
    token = client.post("/api/v1/tokens", json={"email": backer.email, "password": PASSWORD})
    assert token.status_code == 201, token.get_json()
    monkeypatch.setitem(app.config, "SANDBOX_LATENCY", 0.3)
    monkeypatch.setitem(app.config, "SANDBOX_LATENCY_JITTER", 0)

    response = client.post(
        f"/api/v1/projects/{project.id}/pledges",
        json={"tier_id": project.tiers[0].id, "quantity": 1, "payment_method": "pm_card_visa"},
        headers={"Authorization": f"Bearer {token.get_json()['token']}", "Idempotency-Key": key("api")},
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "held"
    assert recorder.waits == [0.3]
