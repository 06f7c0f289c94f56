"""The engine set-up in crowdfund/database.py: testing pooled connections that sat idle."""
import time

import pytest
from sqlalchemy import create_engine, text

from crowdfund import create_app
from crowdfund.extensions import db


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
            db.session.remove()
            db.engine.dispose()


def backend_pid():
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.commit()  # the connection goes back to the pool
    return pid


def terminate(database_url, pid):
    """What a server restart or a dropped network path does to a pooled connection."""
    other = create_engine(database_url)
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def count_pings(monkeypatch):
    pings = []
    dialect = db.engine.dialect
    real = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: pings.append(1) or real(connection))
    return pings


@pytest.mark.postgres_only
def test_a_connection_dropped_while_idle_is_replaced_before_a_request_uses_it(make_app, database_url):
    with make_app(ping_after_idle=0.05).app_context():
        dead = backend_pid()
        terminate(database_url, dead)
        time.sleep(0.1)

        assert db.session.scalar(text("SELECT 1")) == 1  # no error reaches the caller
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
