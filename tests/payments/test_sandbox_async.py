"""The sandbox as a model of Stripe's asynchronous payments: 3-D Secure and wallets, the
first answer replayed, retrieve, cancel, and the webhook events each change queues."""

import pytest

from crowdfund.payments import GatewayError, NextAction, TransientGatewayError
from crowdfund.payments.sandbox_methods import ACTION_METHODS
from tests.payments.sandbox_helpers import RETURN_URL, key, operation, pay, queued

WAITING = {  # method -> (next_action.type, how the backer fails it)
    "pm_card_threeDSecure2Required": ("redirect_to_url", "authentication_failed"),
    "pm_card_authenticationRequired": ("redirect_to_url", "authentication_failed"),
    "pm_alipay": ("redirect_to_url", "payment_failed"),
    "pm_wechat_pay": ("wechat_pay_display_qr_code", "payment_failed"),
}


def test_the_table_above_covers_every_asynchronous_method():
    assert set(WAITING) == set(ACTION_METHODS)


# -- charges that wait for the backer ------------------------------------------------------
@pytest.mark.parametrize("method", sorted(WAITING))
def test_an_asynchronous_method_waits_for_the_backer_on_the_sandboxs_page(sandbox, db, method):
    result = pay(sandbox, method, amount=8800, currency="CNY")
    assert (result.ok, result.requires_action, result.status, result.final) == (False, True, "requires_action", False)
    assert result.ref.startswith("ch_sbx_") and result.decline_code is None
    assert (result.amount, result.currency) == (8800, "CNY")
    assert result.next_action == NextAction(WAITING[method][0], f"/sandbox/pay/{result.ref}")
    op = operation(db, result.ref)
    assert (op.status, op.payment_method, op.amount) == ("requires_action", method, 8800)
    assert op.extra == {
        "metadata": {"pledge_id": 5, "project_id": 2},
        "transfer_group": "project-2",
        "return_url": RETURN_URL,
        "description": "Pledge 5 to project 2",
    }
    [event] = queued(db)
    assert event.type == "payment_intent.requires_action"


def test_the_page_address_is_absolute_in_a_request_and_from_config_elsewhere(sandbox, app, db, monkeypatch):
    with app.test_request_context(base_url="https://crowdfund.example"):
        inside = pay(sandbox, "pm_alipay")
    assert inside.next_action.url == f"https://crowdfund.example/sandbox/pay/{inside.ref}"
    monkeypatch.setitem(app.config, "SANDBOX_PUBLIC_URL", "https://demo.example/")
    assert sandbox.retrieve(inside.ref).next_action.url == f"https://demo.example/sandbox/pay/{inside.ref}"


def test_a_replay_repeats_the_first_answer_even_after_the_backer_finished(sandbox, db):
    idempotency_key = key()
    first = pay(sandbox, "pm_card_threeDSecure2Required", idempotency_key=idempotency_key)
    sandbox.complete(first.ref, succeed=True)
    assert pay(sandbox, "pm_card_threeDSecure2Required", idempotency_key=idempotency_key) == first
    assert sandbox.retrieve(first.ref).ok  # the truth is retrieve's
    assert operation(db, first.ref).status == "succeeded"


def test_plain_cards_still_answer_at_once_with_the_charge_ref(sandbox, db):
    paid = pay(sandbox, "pm_card_visa", amount=1200, currency="GBP")
    assert (paid.ok, paid.final, paid.amount, paid.currency) == (True, True, 1200, "GBP")
    declined = pay(sandbox, "pm_card_insufficientFunds")
    assert (declined.ok, declined.final, declined.decline_code) == (False, True, "insufficient_funds")
    assert declined.ref.startswith("ch_sbx_") and declined.next_action is None


# -- retrieve ---------------------------------------------------------------------------------
def test_retrieve_tells_what_each_payment_is_now(sandbox, db):
    paid = pay(sandbox, "pm_card_visa", amount=3000)
    assert sandbox.retrieve(paid.ref) == paid
    declined = pay(sandbox, "pm_card_chargeDeclined")
    assert sandbox.retrieve(declined.ref) == declined
    waiting = pay(sandbox, "pm_wechat_pay")
    assert sandbox.retrieve(waiting.ref) == waiting

    sandbox.complete(waiting.ref, succeed=False)
    failed = sandbox.retrieve(waiting.ref)
    assert (failed.ok, failed.final, failed.decline_code) == (False, True, "payment_failed")
    assert failed.message == "The payment was not completed in the wallet."


def test_retrieving_an_unknown_payment_or_a_refund_is_resource_missing(sandbox, db):
    refund = sandbox.refund(charge_ref=pay(sandbox).ref, amount=100, currency="CNY", idempotency_key=key("refund"))
    for ref in ("ch_sbx_nothing", refund.ref):
        with pytest.raises(GatewayError) as error:
            sandbox.retrieve(ref)
        assert error.value.code == "resource_missing" and not error.value.transient


# -- the backer's answer on the page ----------------------------------------------------------
@pytest.mark.parametrize("method", sorted(WAITING))
def test_the_backer_can_complete_or_fail_the_payment(sandbox, db, method):
    done = sandbox.complete(pay(sandbox, method, amount=700).ref, succeed=True)
    assert (done.ok, done.amount) == (True, 700)
    failed = sandbox.complete(pay(sandbox, method).ref, succeed=False)
    assert (failed.ok, failed.decline_code) == (False, WAITING[method][1])
    assert operation(db, failed.ref).status == "declined"


def test_a_second_answer_changes_nothing(sandbox, db):
    ref = pay(sandbox, "pm_alipay").ref
    sandbox.complete(ref, succeed=True)
    assert sandbox.complete(ref, succeed=False).ok
    assert [e.type for e in queued(db)] == ["payment_intent.requires_action", "payment_intent.succeeded"]


# -- cancel -----------------------------------------------------------------------------------
def test_cancel_abandons_a_waiting_payment_for_good(sandbox, db):
    ref = pay(sandbox, "pm_card_authenticationRequired").ref
    canceled = sandbox.cancel(ref, idempotency_key=key("cancel"))
    assert (canceled.ok, canceled.final, canceled.decline_code, canceled.ref) == (False, True, "canceled", ref)
    assert operation(db, ref).status == "canceled"
    assert not sandbox.complete(ref, succeed=True).ok  # too late for the backer
    assert sandbox.cancel(ref, idempotency_key=key("cancel")) == canceled
    assert [e.type for e in queued(db)] == ["payment_intent.requires_action", "payment_intent.canceled"]


def test_cancel_leaves_a_succeeded_or_declined_payment_as_it_is(sandbox, db):
    waited = pay(sandbox, "pm_wechat_pay")
    sandbox.complete(waited.ref, succeed=True)
    for ref in (pay(sandbox).ref, waited.ref):
        assert sandbox.cancel(ref, idempotency_key=key("cancel")).ok
        assert operation(db, ref).status == "succeeded"
    declined = pay(sandbox, "pm_card_chargeDeclined")
    assert sandbox.cancel(declined.ref, idempotency_key=key("cancel")) == declined
    assert "payment_intent.canceled" not in [e.type for e in queued(db)]
    with pytest.raises(GatewayError) as error:
        sandbox.cancel("ch_sbx_nothing", idempotency_key=key("cancel"))
    assert error.value.code == "resource_missing"


# -- injected faults --------------------------------------------------------------------------
def test_retrieve_and_cancel_fail_transiently_when_asked(sandbox, db):
    ref = pay(sandbox, "pm_alipay").ref
    sandbox.faults.configure(fail_next=2)  # the default kinds include retrieve and cancel
    with pytest.raises(TransientGatewayError):
        sandbox.retrieve(ref)
    with pytest.raises(TransientGatewayError):
        sandbox.cancel(ref, idempotency_key=key("cancel"))
    assert operation(db, ref).status == "requires_action"  # the fault came before the work
    assert sandbox.retrieve(ref).requires_action


def test_a_lost_cancel_reply_is_recovered_by_asking_again(sandbox, db):
    ref = pay(sandbox, "pm_alipay").ref
    sandbox.faults.configure(fail_next=1, kinds={"cancel"}, after_commit=True)
    cancel_key = key("cancel")
    with pytest.raises(TransientGatewayError):
        sandbox.cancel(ref, idempotency_key=cancel_key)
    assert operation(db, ref).status == "canceled"  # done; only the answer was lost
    assert sandbox.cancel(ref, idempotency_key=cancel_key).decline_code == "canceled"
    assert len(queued(db, type="payment_intent.canceled")) == 1


# -- the events, shaped like Stripe's ---------------------------------------------------------
def test_a_successful_charge_queues_a_payment_intent_event_like_stripes(sandbox, db):
    idempotency_key = key()
    ref = pay(sandbox, "pm_card_visa", amount=4200, currency="CNY", idempotency_key=idempotency_key).ref
    [event] = queued(db)
    assert event.id.startswith("evt_sbx_") and event.delivered_at is None and event.attempts == 0
    payload = event.payload
    assert (payload["id"], payload["object"], payload["type"]) == (event.id, "event", "payment_intent.succeeded")
    assert isinstance(payload["created"], int)
    intent = payload["data"]["object"]
    assert {
        name: intent[name]
        for name in ("id", "object", "amount", "currency", "status", "metadata", "last_payment_error", "transfer_group")
    } == {
        "id": ref,
        "object": "payment_intent",
        "amount": 4200,
        "currency": "cny",
        "status": "succeeded",
        "metadata": {"pledge_id": "5", "project_id": "2", "crowdfund_key": idempotency_key},
        "last_payment_error": None,
        "transfer_group": "project-2",
    }


def test_a_decline_and_a_failed_authentication_queue_payment_failed(sandbox, db):
    pay(sandbox, "pm_card_insufficientFunds")
    sandbox.complete(pay(sandbox, "pm_card_threeDSecure2Required").ref, succeed=False)
    failed = [e.payload["data"]["object"] for e in queued(db, type="payment_intent.payment_failed")]
    assert [intent["status"] for intent in failed] == ["requires_payment_method"] * 2
    assert [intent["last_payment_error"]["decline_code"] for intent in failed] == [
        "insufficient_funds",
        "authentication_failed",
    ]
    assert failed[1]["last_payment_error"]["code"] == "payment_intent_authentication_failure"


def test_a_waiting_payment_event_says_where_the_backer_goes(sandbox, db):
    ref = pay(sandbox, "pm_wechat_pay").ref
    [event] = queued(db)
    intent = event.payload["data"]["object"]
    assert intent["status"] == "requires_action"
    assert intent["next_action"] == {
        "type": "wechat_pay_display_qr_code",
        "wechat_pay_display_qr_code": {"data": f"/sandbox/pay/{ref}", "hosted_instructions_url": f"/sandbox/pay/{ref}"},
    }


def test_refunds_queue_charge_refunded_with_the_running_total(sandbox, db):
    from crowdfund.payments import RefundRequest

    ref = pay(sandbox, amount=1000, currency="GBP").ref
    sandbox.refund(charge_ref=ref, amount=300, currency="GBP", idempotency_key=key("refund"))
    sandbox.refund_many([RefundRequest(ref, 700, "GBP", key("refund"))])
    refunded = [e.payload["data"]["object"] for e in queued(db, type="charge.refunded")]
    assert [(c["id"], c["amount_refunded"], c["refunded"]) for c in refunded] == [(ref, 300, False), (ref, 1000, True)]


def test_a_replayed_charge_queues_no_second_event(sandbox, db):
    idempotency_key = key()
    pay(sandbox, idempotency_key=idempotency_key)
    pay(sandbox, idempotency_key=idempotency_key)
    assert len(queued(db)) == 1


def test_with_webhooks_off_nothing_is_queued(sandbox, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOKS", False)
    ref = pay(sandbox, "pm_alipay").ref
    sandbox.complete(ref, succeed=True)
    sandbox.refund(charge_ref=ref, amount=100, currency="CNY", idempotency_key=key("refund"))
    assert queued(db) == []
