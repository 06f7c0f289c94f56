"""The sandbox payment processor: test cards, idempotency, refunds, payouts, faults."""

import json
import uuid

import pytest
from sqlalchemy import func, select

from crowdfund.models import SandboxOperation, WebhookEvent
from crowdfund.payments import GatewayError, RefundRequest, TransientGatewayError
from crowdfund.payments.sandbox_methods import DECLINES, SUCCEEDING_METHODS


def key(label="charge"):
    return f"test:{label}:{uuid.uuid4().hex}"


def charge(gateway, amount=5000, currency="GBP", method="pm_card_visa", idempotency_key=None):
    return gateway.charge(
        amount=amount,
        currency=currency,
        payment_method=method,
        idempotency_key=idempotency_key or key(),
        transfer_group="project-1",
        metadata={"pledge": "1"},
    )


def operations(db, **where):
    query = select(SandboxOperation)
    for column, value in where.items():
        query = query.where(getattr(SandboxOperation, column) == value)
    db.session.rollback()  # see what the processor committed on its own connection
    return db.session.scalars(query).all()


# -- charges -----------------------------------------------------------------------------
@pytest.mark.parametrize("method", sorted(SUCCEEDING_METHODS))
def test_every_succeeding_test_card_is_charged(sandbox, db, method):
    result = charge(sandbox, amount=1999, currency="CNY", method=method)
    assert result.ok and result.ref.startswith("ch_sbx_")
    [op] = operations(db, id=result.ref)
    assert (op.status, op.amount, op.currency, op.payment_method) == ("succeeded", 1999, "CNY", method)
    assert op.reference == "project-1"


@pytest.mark.parametrize("method", sorted(DECLINES))
def test_every_declining_test_card_is_declined_with_its_code(sandbox, db, method):
    code, message = DECLINES[method]
    result = charge(sandbox, method=method)
    assert not result.ok
    assert (result.decline_code, result.message) == (code, message)
    assert not result.requires_action
    [op] = operations(db, id=result.ref)
    assert op.status == "declined" and op.decline_code == code


def test_an_unknown_payment_method_is_refused_and_not_recorded(sandbox, db):
    result = charge(sandbox, method="pm_card_made_up")
    assert not result.ok and result.decline_code == "invalid_payment_method"
    assert result.ref is None
    assert operations(db) == []


def test_a_replayed_charge_returns_the_first_result_and_charges_once(sandbox, db):
    idempotency_key = key()
    first = charge(sandbox, idempotency_key=idempotency_key)
    again = charge(sandbox, idempotency_key=idempotency_key)
    assert again == first
    assert len(operations(db, idempotency_key=idempotency_key)) == 1


def test_a_declined_charge_replays_as_the_same_decline(sandbox, db):
    idempotency_key = key()
    first = charge(sandbox, method="pm_card_insufficientFunds", idempotency_key=idempotency_key)
    assert charge(sandbox, method="pm_card_insufficientFunds", idempotency_key=idempotency_key) == first
    assert len(operations(db)) == 1


def test_the_same_key_with_another_amount_is_an_idempotency_conflict(sandbox, db):
    idempotency_key = key()
    charge(sandbox, amount=5000, idempotency_key=idempotency_key)
    with pytest.raises(GatewayError) as error:
        charge(sandbox, amount=6000, idempotency_key=idempotency_key)
    assert error.value.code == "idempotency_conflict" and not error.value.transient
    [op] = operations(db)
    assert op.amount == 5000


# -- refunds -----------------------------------------------------------------------------
def refund(gateway, charge_ref, amount, currency="GBP", idempotency_key=None):
    return gateway.refund(
        charge_ref=charge_ref, amount=amount, currency=currency, idempotency_key=idempotency_key or key("refund")
    )


def test_partial_refunds_add_up_to_the_charge_and_no_further(sandbox, db):
    paid = charge(sandbox, amount=5000)
    first = refund(sandbox, paid.ref, 3000)
    second = refund(sandbox, paid.ref, 2000)
    assert (first.amount, second.amount, first.currency) == (3000, 2000, "GBP")
    assert first.ref != second.ref and first.ref.startswith("re_sbx_")
    with pytest.raises(GatewayError) as error:
        refund(sandbox, paid.ref, 1)
    assert error.value.code == "amount_too_large"
    assert sum(op.amount for op in operations(db, kind="refund", reference=paid.ref)) == 5000


def test_refunding_more_than_was_charged_is_refused(sandbox, db):
    paid = charge(sandbox, amount=5000)
    with pytest.raises(GatewayError) as error:
        refund(sandbox, paid.ref, 5001)
    assert error.value.code == "amount_too_large"
    assert operations(db, kind="refund") == []


def test_a_refund_in_another_currency_is_refused(sandbox, db):
    paid = charge(sandbox, amount=5000, currency="GBP")
    with pytest.raises(GatewayError):
        refund(sandbox, paid.ref, 100, currency="EUR")
    assert operations(db, kind="refund") == []


def test_a_declined_or_unknown_charge_cannot_be_refunded(sandbox, db):
    declined = charge(sandbox, method="pm_card_chargeDeclined")
    for ref in (declined.ref, "ch_sbx_nothing"):
        with pytest.raises(GatewayError) as error:
            refund(sandbox, ref, 100)
        assert error.value.code == "charge_not_found"


def test_a_replayed_refund_returns_the_first_refund(sandbox, db):
    paid = charge(sandbox, amount=5000)
    idempotency_key = key("refund")
    first = refund(sandbox, paid.ref, 5000, idempotency_key=idempotency_key)
    assert refund(sandbox, paid.ref, 5000, idempotency_key=idempotency_key) == first
    assert len(operations(db, kind="refund")) == 1


def test_refund_many_reports_each_refund_or_its_error_in_order(sandbox, db):
    paid = charge(sandbox, amount=1000)
    results = sandbox.refund_many(
        [
            RefundRequest(paid.ref, 600, "GBP", key("refund")),
            RefundRequest(paid.ref, 600, "GBP", key("refund")),  # only 400 left
            RefundRequest(paid.ref, 400, "GBP", key("refund")),
        ]
    )
    assert results[0].amount == 600
    assert isinstance(results[1], GatewayError) and results[1].code == "amount_too_large"
    assert results[2].amount == 400


# -- payouts -----------------------------------------------------------------------------
def test_a_payout_goes_to_a_connected_account(sandbox, db):
    moved = sandbox.payout(
        amount=9500,
        currency="GBP",
        destination="acct_sandbox_abc",
        idempotency_key=key("payout"),
        transfer_group="project-1",
    )
    assert moved.amount == 9500 and moved.ref.startswith("pa_sbx_")
    [op] = operations(db, kind="payout")
    assert op.reference == "acct_sandbox_abc" and op.extra == {"transfer_group": "project-1"}


@pytest.mark.parametrize("destination", ["", None, "GB29NWBK60161331926819", "cus_123"])
def test_a_payout_to_anything_but_an_account_is_refused(sandbox, db, destination):
    with pytest.raises(GatewayError) as error:
        sandbox.payout(
            amount=100,
            currency="GBP",
            destination=destination,
            idempotency_key=key("payout"),
            transfer_group="project-1",
        )
    assert error.value.code == "invalid_destination"
    assert operations(db) == []


# -- injected faults ---------------------------------------------------------------------
def test_a_fault_before_the_processor_acts_leaves_nothing_and_a_retry_charges_once(sandbox, db):
    sandbox.faults.configure(fail_next=1, kinds={"charge"})
    idempotency_key = key()
    with pytest.raises(TransientGatewayError):
        charge(sandbox, idempotency_key=idempotency_key)
    assert operations(db) == []
    result = charge(sandbox, idempotency_key=idempotency_key)
    assert result.ok
    assert len(operations(db)) == 1


def test_a_lost_reply_after_the_charge_is_recovered_by_retrying_with_the_same_key(sandbox, db):
    sandbox.faults.configure(fail_next=1, kinds={"charge"}, after_commit=True)
    idempotency_key = key()
    with pytest.raises(TransientGatewayError):
        charge(sandbox, idempotency_key=idempotency_key)
    [done] = operations(db)  # the processor did charge; only its answer was lost
    assert done.status == "succeeded"
    result = charge(sandbox, idempotency_key=idempotency_key)
    assert result.ok and result.ref == done.id
    assert len(operations(db)) == 1


def test_a_lost_refund_reply_is_recovered_without_refunding_twice(sandbox, db):
    paid = charge(sandbox, amount=5000)
    sandbox.faults.configure(fail_next=1, kinds={"refund"}, after_commit=True)
    idempotency_key = key("refund")
    with pytest.raises(TransientGatewayError):
        refund(sandbox, paid.ref, 5000, idempotency_key=idempotency_key)
    moved = refund(sandbox, paid.ref, 5000, idempotency_key=idempotency_key)
    assert moved.amount == 5000
    assert len(operations(db, kind="refund")) == 1


def test_faults_only_hit_the_kinds_asked_for(sandbox, db):
    sandbox.faults.configure(rate=1.0, kinds={"payout"})
    assert charge(sandbox).ok
    with pytest.raises(TransientGatewayError):
        sandbox.payout(
            amount=100, currency="GBP", destination="acct_x1", idempotency_key=key("payout"), transfer_group="project-1"
        )
    sandbox.faults.reset()
    assert (
        sandbox.payout(
            amount=100, currency="GBP", destination="acct_x1", idempotency_key=key("payout"), transfer_group="project-1"
        ).amount
        == 100
    )


# -- the processor's book is not our transaction ----------------------------------------------
def test_a_charge_survives_a_rollback_of_our_own_session(sandbox, db):
    result = charge(sandbox, amount=4200)
    db.session.add(WebhookEvent(id=f"evt_{uuid.uuid4().hex}", type="test.only"))
    db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    [op] = operations(db, id=result.ref)
    assert op.amount == 4200 and op.status == "succeeded"


def test_a_charge_made_while_our_transaction_is_open_survives_its_rollback(sandbox, db):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: our open write transaction would block the sandbox's own one")
    db.session.add(WebhookEvent(id=f"evt_{uuid.uuid4().hex}", type="test.only"))
    db.session.flush()  # our transaction now holds writes
    result = charge(sandbox, amount=4300)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    [op] = operations(db, id=result.ref)
    assert op.amount == 4300


# -- webhook signatures ------------------------------------------------------------------
def test_sandbox_webhooks_are_verified_by_their_signature(sandbox):
    payload = json.dumps(
        {"id": "evt_sbx_1", "type": "payment_intent.succeeded", "data": {"object": {"id": "ch_sbx_1"}}}
    ).encode()
    event = sandbox.parse_webhook(payload, {"Sandbox-Signature": sandbox.sign(payload)})
    assert (event.id, event.type, event.data) == (
        "evt_sbx_1",
        "payment_intent.succeeded",
        {"object": {"id": "ch_sbx_1"}},
    )
    for headers in ({"Sandbox-Signature": sandbox.sign(payload + b" ")}, {}):
        with pytest.raises(GatewayError) as error:
            sandbox.parse_webhook(payload, headers)
        assert error.value.code == "bad_signature"
    junk = b"not json"
    with pytest.raises(GatewayError) as error:
        sandbox.parse_webhook(junk, {"Sandbox-Signature": sandbox.sign(junk)})
    assert error.value.code == "bad_payload"
