"""StripeGateway's disputes and transfer reversals, against the recording client: what it
asks Stripe, and how it reads Stripe's Dispute and balance history."""

from urllib.parse import parse_qsl

from crowdfund.payments.stripe_disputes import activity_record, dispute_info

OPENED = {
    "id": "dp_1",
    "object": "dispute",
    "amount": 2500,
    "currency": "gbp",
    "status": "needs_response",
    "reason": "fraudulent",
    "livemode": True,
    "evidence_details": {"due_by": 1767225600},
    "payment_intent": {"id": "pi_1", "object": "payment_intent", "metadata": {"pledge_id": "41"}},
    "balance_transactions": [{"amount": -2500, "fee": 1500, "currency": "gbp"}],
}


def test_an_open_dispute_says_what_stripe_took_and_where_to_answer_it():
    info = dispute_info(OPENED)
    assert (info.charge_ref, info.pledge_id, info.status, info.reason) == ("pi_1", 41, "needs_response", "fraudulent")
    assert (info.amount, info.currency, info.funds_withdrawn, info.funds_reinstated, info.fee) == (
        2500,
        "GBP",
        2500,
        0,
        1500,
    )
    assert info.evidence_url == "https://dashboard.stripe.com/disputes/dp_1"
    assert info.evidence_due_by.isoformat() == "2026-01-01T00:00:00+00:00"
    test_mode = dispute_info({**OPENED, "livemode": False, "payment_intent": "pi_1"})
    assert test_mode.evidence_url == "https://dashboard.stripe.com/test/disputes/dp_1" and test_mode.pledge_id is None


def test_a_won_dispute_says_the_money_went_and_came_back():
    won = dispute_info(
        {
            **OPENED,
            "status": "won",
            "balance_transactions": [
                {"amount": -2500, "fee": 1500, "currency": "gbp"},
                {"amount": 2500, "fee": -1500, "currency": "gbp"},
            ],
        }
    )
    assert (won.status, won.funds_withdrawn, won.funds_reinstated, won.fee) == ("won", 2500, 2500, 0)


def test_an_inquiry_took_nothing_and_statuses_fold_into_four_words():
    inquiry = dispute_info({**OPENED, "status": "warning_needs_response", "balance_transactions": []})
    assert (inquiry.status, inquiry.funds_withdrawn, inquiry.fee) == ("needs_response", 0, 0)
    assert dispute_info({**OPENED, "status": "warning_closed", "balance_transactions": []}).status == "won"
    assert dispute_info({**OPENED, "status": "under_review"}).status == "under_review"
    # No balance transactions to read (or in another currency): by its status.
    lost = {key: value for key, value in OPENED.items() if key != "balance_transactions"}
    assert dispute_info({**lost, "status": "lost"}).funds_withdrawn == 2500
    settled_elsewhere = dispute_info(
        {**OPENED, "balance_transactions": [{"amount": -2900, "fee": 1700, "currency": "usd"}]}
    )
    assert (settled_elsewhere.funds_withdrawn, settled_elsewhere.fee) == (2500, 0)


def test_the_balance_history_names_disputes_their_reinstatement_and_reversals():
    dispute = {"id": "dp_1", "object": "dispute", "payment_intent": "pi_1"}
    taken = activity_record(
        {"type": "adjustment", "amount": -2500, "fee": 1500, "currency": "gbp", "reporting_category": "dispute"},
        dispute,
    )
    back = activity_record(
        {
            "type": "adjustment",
            "amount": 2500,
            "fee": -1500,
            "currency": "gbp",
            "reporting_category": "dispute_reversal",
        },
        dispute,
    )
    reversal = activity_record(
        {"type": "transfer_refund", "amount": 2375, "fee": 0, "currency": "gbp"},
        {"id": "trr_1", "object": "transfer_reversal", "transfer": "tr_1"},
    )
    assert (taken.kind, taken.ref, taken.amount, taken.fee, taken.source) == ("dispute", "dp_1", 2500, 1500, "pi_1")
    assert (back.kind, back.ref, back.amount, back.fee) == ("dispute_won", "dp_1", 2500, 1500)
    assert (reversal.kind, reversal.ref, reversal.amount, reversal.source) == ("payout_reversal", "trr_1", 2375, "tr_1")
    assert activity_record({"type": "adjustment", "amount": -100, "currency": "gbp"}, {"id": "x"}) is None
    assert activity_record({"type": "stripe_fee", "amount": -100, "currency": "gbp"}, {"id": "x"}) is None


def test_the_gateway_asks_for_the_payment_intent_and_reverses_with_its_key(recorded_gateway, recorder):
    info = recorded_gateway.retrieve_dispute("dp_rec9")
    assert (info.ref, info.charge_ref, info.funds_withdrawn) == ("dp_rec9", "pi_rec1", 2500)
    call = recorder.requests[-1]
    assert (call.method, call.path, call.params) == ("GET", "/v1/disputes/dp_rec9", {"expand[0]": "payment_intent"})
    movement = recorded_gateway.reverse_payout("tr_rec3", amount=2375, idempotency_key="dispute-9-reversal")
    assert (movement.amount, movement.currency) == (2375, "GBP") and movement.ref.startswith("trr_")
    call = recorder.requests[-1]
    assert call.path == "/v1/transfers/tr_rec3/reversals" and call.headers["Idempotency-Key"] == "dispute-9-reversal"
    assert dict(parse_qsl(call.body)) == {"amount": "2375", "metadata[crowdfund_key]": "dispute-9-reversal"}


def test_activity_lists_disputes_for_reconcile(recorded_gateway, recorder):
    recorder.reply(
        200,
        {
            "object": "list",
            "url": "/v1/balance_transactions",
            "has_more": False,
            "data": [
                {
                    "id": "txn_9",
                    "object": "balance_transaction",
                    "type": "adjustment",
                    "amount": -2500,
                    "fee": 1500,
                    "currency": "gbp",
                    "reporting_category": "dispute",
                    "source": {"id": "dp_9", "object": "dispute", "payment_intent": "pi_9"},
                }
            ],
        },
    )
    assert [(r.kind, r.ref, r.amount, r.fee, r.source) for r in recorded_gateway.activity()] == [
        ("dispute", "dp_9", 2500, 1500, "pi_9")
    ]
