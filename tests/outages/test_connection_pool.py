"""A pooled connection the server ended (a failover, a restart, pg_terminate_backend) is
replaced before anyone uses it, however recently it was handed back, at no round trip for
the connections the server did not end."""

import time

import pytest
from sqlalchemy import text

from crowdfund.extensions import db as _db
from tests.test_database import backend_pid, count_pings, terminate

pytestmark = pytest.mark.postgres_only


def test_a_connection_the_server_ended_a_moment_ago_is_replaced_before_use(make_app, database_url, monkeypatch):
    with make_app(ping_after_idle=60).app_context():  # far from idle long enough to be pinged for that
        pings = count_pings(monkeypatch)
        for _ in range(3):
            backend_pid()
        assert pings == []  # the server said nothing: no ping
        dead = backend_pid()
        terminate(database_url, dead)
        time.sleep(0.1)

        assert _db.session.scalar(text("SELECT 1")) == 1  # no error reaches the caller
        assert backend_pid() != dead
        assert len(pings) == 1  # the ended connection alone was pinged
