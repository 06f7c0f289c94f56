"""Shared fixtures. The suite runs on SQLite by default; TEST_DB=postgresql runs it on
PostgreSQL (TEST_DATABASE_URL, or the local server), each run in a database of its own
that is created at the start and dropped at the end.
"""

import os
import re
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from crowdfund import create_app
from crowdfund.extensions import db as _db, limiter
from tests.support import factories

PG_SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def backend():
    return os.environ.get("TEST_DB", "sqlite")


def _server_url(url):
    url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
    return url


@contextmanager
def new_database(kind, tmp_dir):
    """An empty database of `kind` ("sqlite" or "postgresql"), dropped afterwards."""
    if kind == "sqlite":
        yield "sqlite:///" + str(Path(tmp_dir) / f"{uuid.uuid4().hex[:8]}.db")
        return
    server = _server_url(PG_SERVER_URL)
    name = f"crowdfund_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_available():
    try:
        engine = create_engine(_server_url(PG_SERVER_URL))
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - whatever the failure, PostgreSQL does not answer
        return False


@pytest.fixture(scope="session")
def redis_url():
    """The local Redis (db 15) for tests of what production keeps there; skipped when it does
    not answer, except under CI, where it must."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis at 127.0.0.1:6379 must answer when CI=true")
        pytest.skip("Redis at 127.0.0.1:6379 does not answer")
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with new_database(backend(), tmp_path_factory.mktemp("db")) as url:
        yield url


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (own `g`, own session), as in production,
    even though the test itself holds one open for its database checks. The test's own
    session commits around each request: the request sees the test's set-up, and the
    test's next query sees what the request did (SQLite keeps a snapshot per transaction).
    """

    def open(self, *args, **kwargs):
        outer = _db.session if has_app_context() else None
        if outer is not None:
            outer.commit()
        try:
            with self.application.app_context():
                return super().open(*args, **kwargs)
        finally:
            if outer is not None:
                outer.commit()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["CROWDFUND_INSTANCE_PATH"] = str(instance)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    app.test_client_class = FreshContextClient
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture()
def db(app):
    """The database, emptied after each test."""
    ctx = app.app_context()
    ctx.push()
    # Empty limits, in this app's store: the one limiter follows the last app built, and some
    # tests build others (a production one names Redis).
    limiter.init_app(app)
    yield _db
    _db.session.rollback()
    _db.session.remove()
    _empty_tables()
    ctx.pop()


def _empty_tables():
    tables = list(reversed(_db.metadata.sorted_tables))
    # DELETE beats TRUNCATE on PostgreSQL for tables this small (TRUNCATE rewrites files).
    # Ids keep counting up across tests; no test relies on them starting at 1.
    with _db.engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def make(db):
    """Factories: make.user(), make.firm(owner=...), ..."""
    return factories.Factories(db)


@pytest.fixture()
def login(client):
    def do_login(user, password=factories.PASSWORD):
        response = client.post(
            "/account/login",
            data={"email": user.email, "password": password, "csrf_token": csrf_token(client, "/account/login")},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        if response.headers["Location"].endswith("/account/2fa/verify"):
            factories.pass_second_step(client, user)
        return user

    return do_login


def csrf_token(client, path):
    """The CSRF token a person would get by opening the page at `path`."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def pytest_sessionstart(session):
    """Compile the message catalogs if a .po is newer than its .mo (`make test` does this first;
    this covers running pytest directly in a fresh clone)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (Path(__file__).resolve().parent.parent / "crowdfund" / "translations").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with mo.open("wb") as target:
                write_mo(target, catalog)


@pytest.fixture(autouse=True)
def sandbox(app):
    """The app's sandbox gateway with no injected faults, before and after every test;
    a test that installs another gateway (`use_gateway`) gets the sandbox back after it."""
    from crowdfund.payments import get_gateway

    gateway = get_gateway(app)
    gateway.faults.reset()
    yield gateway
    gateway.faults.reset()
    app.extensions["payment_gateway"] = gateway


@pytest.fixture()
def use_gateway(app):
    """Install another gateway for one test (the `sandbox` fixture restores the sandbox)."""

    def install(gateway):
        app.extensions["payment_gateway"] = gateway
        return gateway

    return install


# `make test-fast` (-m "not external and not slow") runs what needs nothing outside the test
# process. A test is marked `external` here when it uses a fixture that starts a server or a
# process, or needs one already running; when it carries a marker that says as much; or when
# it is listed below (it starts one itself).
EXTERNAL_FIXTURES = frozenset(
    {
        "smtp_server",  # an SMTP server (aiosmtpd)
        "redis_url",
        "redis_queue",
        "redis_process",
        "redis_server",  # a Redis server
        "localstripe",
        "stripe_admin",  # localstripe, in a process
        "live",
        "live_server",
        "browser",
        "new_page",  # a live HTTP server; Chromium
    }
)
EXTERNAL_MARKERS = ("browser", "postgres_only")
EXTERNAL_TESTS = (  # node id prefixes
    "tests/api/test_schemathesis.py",  # schemathesis against the whole API
    "tests/settlement/test_csv_downloads.py",  # a live server, for streamed responses
    "tests/concurrency/test_shared_state.py::test_every_visitor_gets_the_page_they_asked_for",  # a live server
    "tests/mail/test_delivery.py::test_smtp_login_uses_the_configured_account",  # an SMTP server of its own
    "tests/mail/test_delivery.py::test_starttls_when_configured",  # the same, and openssl
    "tests/test_catalogues.py::test_a_copy_without_compiled_catalogues_served_by_gunicorn_speaks_chinese",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if (
            EXTERNAL_FIXTURES.intersection(getattr(item, "fixturenames", ()))
            or any(item.get_closest_marker(name) for name in EXTERNAL_MARKERS)
            or item.nodeid.startswith(EXTERNAL_TESTS)
        ):
            item.add_marker(pytest.mark.external)


def pytest_runtest_setup(item):
    """`@pytest.mark.postgres_only` tests need real row locks: skipped on SQLite."""
    if item.get_closest_marker("postgres_only") and backend() != "postgresql":
        pytest.skip("needs PostgreSQL: run with TEST_DB=postgresql")
