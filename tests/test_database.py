"""The engine set-up and statement helpers of crowdfund/database.py.

bulk_insert: one INSERT of arrays on PostgreSQL, an executemany elsewhere; the same rows
and the same refusals either way. Pooled connections: one that sat idle is tested before use.
"""

import time

import pytest
from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, select, text
from sqlalchemy.exc import DataError

from crowdfund import create_app
from crowdfund.database import bulk_insert
from crowdfund.extensions import db as _db
from crowdfund.models import utcnow


@pytest.fixture()
def probe(db):
    """A table of its own, so the test sees bulk_insert alone (no model, no constraint of ours)."""
    table = Table(
        "bulk_insert_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("code", String(8), nullable=False),
        Column("note", Text),
        Column("amount", BigInteger),
        Column("at", DateTime(timezone=True)),
    )
    table.create(db.engine)
    yield table
    db.session.rollback()
    table.drop(db.engine)


def rows_in(db, table):
    return [
        tuple(row)
        for row in db.session.execute(
            select(table.c.id, table.c.code, table.c.note, table.c.amount).order_by(table.c.id)
        )
    ]


def test_every_row_is_written(db, probe):
    bulk_insert(
        db.session,
        probe,
        [
            {"id": 1, "code": "EXACTLY8", "note": "x" * 10_000, "amount": 10**15, "at": utcnow()},
            {"id": 2, "code": "茶叶", "note": None, "amount": None, "at": None},
        ],
    )
    assert rows_in(db, probe) == [(1, "EXACTLY8", "x" * 10_000, 10**15), (2, "茶叶", None, None)]


@pytest.mark.postgres_only  # SQLite does not check a VARCHAR's length at all
def test_a_string_too_long_for_its_column_is_refused_and_nothing_is_written(db, probe):
    with pytest.raises(DataError, match="value too long for type character varying"):
        bulk_insert(
            db.session,
            probe,
            [
                {"id": 1, "code": "FITS", "note": "", "amount": 1, "at": None},
                {"id": 2, "code": "NINE CHRS", "note": "", "amount": 2, "at": None},
            ],
        )
    db.session.rollback()
    assert rows_in(db, probe) == []


# -- idle connections ----------------------------------------------------------------------


@pytest.fixture()
def make_app(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("CROWDFUND_INSTANCE_PATH", str(tmp_path))
    apps = []

    def make(ping_after_idle):
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, DATABASE_PING_AFTER_IDLE=ping_after_idle)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


def backend_pid():
    pid = _db.session.scalar(text("SELECT pg_backend_pid()"))
    _db.session.commit()  # the connection goes back to the pool
    return pid


def terminate(database_url, pid):
    """What a server restart or a dropped network path does to a pooled connection."""
    other = create_engine(database_url)
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def count_pings(monkeypatch):
    pings = []
    dialect = _db.engine.dialect
    real = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: pings.append(1) or real(connection))
    return pings


@pytest.mark.postgres_only
def test_a_connection_dropped_while_idle_is_replaced_before_a_request_uses_it(make_app, database_url):
    with make_app(ping_after_idle=0.05).app_context():
        dead = backend_pid()
        terminate(database_url, dead)
        time.sleep(0.1)

        assert _db.session.scalar(text("SELECT 1")) == 1  # no error reaches the caller
        assert backend_pid() != dead


@pytest.mark.postgres_only
def test_a_connection_handed_back_a_moment_ago_is_not_pinged_again(make_app, monkeypatch):
    with make_app(ping_after_idle=60).app_context():
        pings = count_pings(monkeypatch)
        first = backend_pid()
        for _ in range(5):
            assert backend_pid() == first

        assert pings == []


@pytest.mark.postgres_only
def test_zero_pings_every_checkout(make_app, monkeypatch):
    with make_app(ping_after_idle=0).app_context():
        pings = count_pings(monkeypatch)
        backend_pid()  # a new connection: nothing to test yet
        for _ in range(3):
            backend_pid()

        assert len(pings) == 3


def test_commit_keeping_answers_from_what_was_written_and_expires_the_rest(db, make):
    from sqlalchemy import event

    from crowdfund.database import commit_keeping

    kept, other = make.user(name="Kept"), make.user(name="Other")
    db.session.commit()
    kept.name, other.name = "Kept, renamed", "Other, renamed"
    statements = []
    listener = lambda *args: args[2].startswith("SELECT") and statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        commit_keeping(db.session, kept)
        after_commit = len(statements)
        assert (kept.id, kept.name) == (kept.id, "Kept, renamed")
        assert len(statements) == after_commit  # read without a SELECT
        assert other.name == "Other, renamed"
        assert len(statements) == after_commit + 1  # the rest are expired as after any commit
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    db.session.expire_all()
    assert db.session.get(type(kept), kept.id).name == "Kept, renamed"  # and it was committed
