"""Stripe's side of a refund that fails after it was accepted. (Its `balance_insufficient`
on a transfer keeps that code: test_stripe_recorded.py.)"""


def test_a_refund_the_bank_refused_is_retrieved_as_failed_with_its_key(recorded_gateway, recorder):
    moved = recorded_gateway.refund(
        charge_ref="pi_3Abc", amount=1200, currency="GBP", idempotency_key="pledge-9-refund-2"
    )
    recorder.refunds[moved.ref].update(status="failed", failure_reason="lost_or_stolen_card")
    found = recorded_gateway.retrieve_refund(moved.ref)
    assert found.failed and (found.key, found.failure_reason, found.charge_ref) == (
        "pledge-9-refund-2",
        "lost_or_stolen_card",
        "pi_3Abc",
    )
    assert (recorder.requests[-1].method, recorder.requests[-1].path) == ("GET", f"/v1/refunds/{moved.ref}")


def test_a_refund_failure_in_the_balance_history_gives_the_money_back(recorded_gateway, recorder):
    recorder.reply(
        200,
        {
            "object": "list",
            "url": "/v1/balance_transactions",
            "has_more": False,
            "data": [
                {
                    "id": "txn_1",
                    "object": "balance_transaction",
                    "type": "refund",
                    "amount": -1000,
                    "fee": 0,
                    "currency": "gbp",
                    "source": {"id": "re_1", "object": "refund", "payment_intent": "pi_1"},
                },
                {
                    "id": "txn_2",
                    "object": "balance_transaction",
                    "type": "refund_failure",
                    "amount": 1000,
                    "fee": 0,
                    "currency": "gbp",
                    "source": {"id": "re_1", "object": "refund", "payment_intent": "pi_1"},
                },
            ],
        },
    )
    records = recorded_gateway.activity()
    assert [(r.kind, r.ref, r.amount, r.source) for r in records] == [
        ("refund", "re_1", 1000, "pi_1"),
        ("refund_failure", "re_1", 1000, "pi_1"),
    ]
