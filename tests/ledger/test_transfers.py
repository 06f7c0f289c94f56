"""Ledger accounts and transfers: append-only, positive, one currency, idempotent by id."""

import pytest
from sqlalchemy import event, func, select

from crowdfund import ledger
from crowdfund.ledger import LedgerError, Transfer, TransferConflict
from crowdfund.models import LedgerAccount, LedgerTransfer
from tests.support.builders import live_reward_project, race

CLEARING = ledger.clearing_key("CNY")
FEES = ledger.platform_fees_key("CNY")


@pytest.fixture()
def escrow(make, db):
    return ledger.escrow_key(live_reward_project(make, db))


def count(db, model=LedgerTransfer):
    return db.session.scalar(select(func.count()).select_from(model))


def test_accounts_are_made_on_first_use_with_kind_and_currency(make, db):
    project = live_reward_project(make, db, currency="HKD")
    firm_key = ledger.firm_payable_key(project.firm_id, "HKD")
    escrow = ledger.get_account(ledger.escrow_key(project))
    assert (escrow.kind, escrow.currency, escrow.project_id) == ("escrow", "HKD", project.id)
    payable = ledger.get_account(firm_key)
    assert (payable.kind, payable.currency, payable.firm_id) == ("firm_payable", "HKD", project.firm_id)
    assert ledger.get_account(firm_key).id == payable.id
    assert count(db, LedgerAccount) == 2
    for bad in ("escrow:project:999999", "clearing:CNY", "gateway_clearing:XYZ", "platform_fees:cny", ""):
        with pytest.raises(LedgerError):
            ledger.get_account(bad)


def test_a_transfer_moves_money_and_balances_are_computed(db, escrow):
    row = ledger.transfer("t1", CLEARING, escrow, 1_000, "CNY", "pledge_hold")
    ledger.transfer("t2", escrow, FEES, 150, "CNY", "release_fee")
    assert (row.id, row.amount, row.currency, row.code) == ("t1", 1_000, "CNY", "pledge_hold")
    assert ledger.balance(escrow) == 850
    assert ledger.balance(CLEARING) == -1_000
    assert ledger.balance(FEES) == 150
    assert ledger.balance("platform_fees:USD") == 0  # never used: nothing, and not created
    assert count(db, LedgerAccount) == 3


def test_replaying_a_transfer_returns_the_first_row_and_writes_nothing(db, escrow):
    first = ledger.transfer("pledge:7:hold", CLEARING, escrow, 1_000, "CNY", "pledge_hold")
    again = ledger.transfer("pledge:7:hold", CLEARING, escrow, 1_000, "CNY", "pledge_hold")
    assert again.id == first.id and again.created_at == first.created_at
    assert count(db) == 1 and ledger.balance(escrow) == 1_000


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 1_001},
        {"code": "pledge_refund"},
        {"debit": FEES},
        {"credit": FEES},
        {"pledge_id": 42},
    ],
)
def test_replaying_with_different_parameters_raises(db, escrow, change):
    params = {"debit": CLEARING, "credit": escrow, "amount": 1_000, "currency": "CNY", "code": "pledge_hold"}
    ledger.transfer("x1", **params)
    with pytest.raises(TransferConflict) as conflict:
        ledger.transfer("x1", **{**params, **change})
    assert "x1 already exists" in str(conflict.value)
    assert count(db) == 1 and ledger.balance(escrow) == 1_000


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, None, 10**20])
def test_only_positive_whole_amounts(db, escrow, amount):
    with pytest.raises(LedgerError):
        ledger.transfer("bad", CLEARING, escrow, amount, "CNY", "pledge_hold")
    assert count(db) == 0


def test_the_currency_must_match_both_accounts(db, escrow):
    with pytest.raises(LedgerError) as wrong:
        ledger.transfer("fx", CLEARING, escrow, 100, "USD", "pledge_hold")
    assert "is in USD but account gateway_clearing:CNY is in CNY" in str(wrong.value)
    with pytest.raises(LedgerError):
        ledger.transfer("fx", ledger.clearing_key("USD"), escrow, 100, "USD", "pledge_hold")
    with pytest.raises(LedgerError):
        ledger.transfer("same", escrow, escrow, 100, "CNY", "pledge_hold")
    assert count(db) == 0


def test_a_batch_is_one_insert_and_replays_are_skipped(app, db, escrow):
    ledger.transfer("b0", CLEARING, escrow, 10_000, "CNY", "pledge_hold")
    batch = [
        Transfer(
            f"b{i}",
            CLEARING if i == 0 else escrow,
            escrow if i == 0 else FEES,
            10_000 if i == 0 else 10,
            "CNY",
            "pledge_hold" if i == 0 else "release_fee",
        )
        for i in range(300)
    ]
    inserts = []

    def spy(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO LEDGER_TRANSFERS"):
            inserts.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        result = ledger.transfer_many(batch + batch[:5])  # a repeat inside the batch is harmless
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert result == (299, 6)
    assert len(inserts) == 1
    assert count(db) == 300
    assert ledger.balance(escrow) == 10_000 - 299 * 10
    assert ledger.transfer_many(batch) == (0, 300)  # the whole batch again: nothing new
    assert count(db) == 300


def test_a_batch_with_one_bad_transfer_writes_nothing(db, escrow):
    ledger.transfer("c0", CLEARING, escrow, 500, "CNY", "pledge_hold")
    good = [Transfer(f"c{i}", CLEARING, escrow, 100, "CNY", "pledge_hold") for i in range(1, 5)]
    for bad in (
        Transfer("c0", CLEARING, escrow, 501, "CNY", "pledge_hold"),  # replay, different amount
        Transfer("c9", CLEARING, escrow, 0, "CNY", "pledge_hold"),
        Transfer("c1", CLEARING, escrow, 999, "CNY", "pledge_hold"),
    ):  # clashes inside the batch
        with pytest.raises(LedgerError):
            ledger.transfer_many(good + [bad])
        assert count(db) == 1
    assert ledger.transfer_many([]) == (0, 0)


@pytest.mark.postgres_only
def test_racing_account_creation_makes_one_account(app, db):
    def work(i):
        account = ledger.get_account("platform_fees:SGD")
        from crowdfund.extensions import db as _db

        _db.session.commit()
        return account.id

    ids = race(app, 20, work)
    assert all(isinstance(i, int) for i in ids), ids
    assert len(set(ids)) == 1
    assert count(db, LedgerAccount) == 1


@pytest.mark.postgres_only
def test_racing_replays_of_one_transfer_write_one_row(app, db, escrow):
    def work(i):
        from crowdfund.extensions import db as _db

        row = ledger.transfer("race:1", CLEARING, escrow, 700, "CNY", "pledge_hold")
        _db.session.commit()
        return row.id

    results = race(app, 20, work)
    assert results == ["race:1"] * 20
    assert count(db) == 1 and ledger.balance(escrow) == 700

    def batch(i):
        from crowdfund.extensions import db as _db

        result = ledger.transfer_many(
            [Transfer(f"race:b{n}", CLEARING, escrow, 10, "CNY", "pledge_hold") for n in range(50)]
        )
        _db.session.commit()
        return result.created

    created = race(app, 10, batch)
    assert all(isinstance(n, int) for n in created), created
    assert sum(created) == 50
    assert count(db) == 51 and ledger.balance(escrow) == 1_200
