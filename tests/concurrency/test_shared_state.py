"""What the threads of one process share: its connection pools, the objects it builds on first
use, and its page cache."""

import random
import re
import secrets
import threading
import time

import pytest
import requests
from sqlalchemy import text

from crowdfund import create_app, payments
from crowdfund.extensions import cache, db as _db, limiter
from crowdfund.jobs.celery_app import get_celery
from crowdfund.services import accounts
from tests.support.builders import live_reward_project
from tests.support.factories import Factories
from tests.support.live_server import serving


def at_once(n, work):
    """`work(i)` in `n` threads started together; what each returned, in order."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as error:  # noqa: BLE001 - the test looks at every outcome
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def slowly_counted(fn, calls):
    """`fn`, taking a moment longer, each call counted: threads that come at once overlap in it."""

    def wrapper(*args, **kwargs):
        calls.append(1)
        time.sleep(0.05)
        return fn(*args, **kwargs)

    return wrapper


@pytest.fixture()
def fresh_app(app, db):
    """A new app (as a new worker process has) on the suite's database; its engine closed after."""
    built = []

    def build(**config):
        built.append(create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], **config))
        return built[-1]

    yield build
    for other in built:
        with other.app_context():
            _db.engine.dispose()


# -- the pools ------------------------------------------------------------------------------------


def test_the_database_pool_holds_a_connection_per_thread_and_as_many_again(fresh_app, monkeypatch):
    monkeypatch.delenv("WEB_THREADS", raising=False)
    with fresh_app(WEB_THREADS=6).app_context():
        assert (_db.engine.pool.size(), _db.engine.pool._max_overflow) == (6, 6)
    monkeypatch.setenv("WEB_THREADS", "9")  # as the Procfile and the systemd unit give it to gunicorn
    with fresh_app().app_context():
        assert (_db.engine.pool.size(), _db.engine.pool._max_overflow) == (9, 9)
    with fresh_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 3}).app_context():  # said explicitly: it wins
        assert (_db.engine.pool.size(), _db.engine.pool._max_overflow) == (3, 9)


def test_every_thread_may_hold_a_connection_while_the_processor_writes_its_own_book(fresh_app, db):
    """Sixteen request threads each in a transaction of their own, then all charging at once:
    the sandbox's book needs a second connection in each. (With SQLAlchemy's default pool, 5 +
    10, fifteen threads would hold one each and wait for a second until the pool's timeout.)"""
    threads = 16
    app = fresh_app(WEB_THREADS=threads, SQLALCHEMY_ENGINE_OPTIONS={"pool_timeout": 3})
    gateway = payments.get_gateway(app)
    holding = threading.Barrier(threads)

    def request(i):
        with app.app_context():
            _db.session.execute(text("SELECT 1"))  # the request's own connection, held to its end
            holding.wait(timeout=30)
            result = gateway.charge(
                amount=1000,
                currency="GBP",
                payment_method="pm_card_visa",
                idempotency_key=f"thread-{i}-{secrets.token_hex(4)}",
                transfer_group="project-1",
            )
            _db.session.rollback()
            return result.ok

    assert at_once(threads, request) == [True] * threads


def test_the_redis_pools_and_the_brokers_fit_the_threads(fresh_app, redis_url):
    app = fresh_app(
        WEB_THREADS=12,
        REDIS_MAX_CONNECTIONS=14,
        PAGE_CACHE_SECONDS=10,
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
    )
    with app.app_context():
        assert cache.cache._write_client.connection_pool.max_connections == 14
        assert get_celery(app).conf.broker_pool_limit == 12  # Celery's own default is 10
    for threads, cap in ((12, 100), (150, 152)):  # unset: redis-py's default, or more for more threads
        sized = fresh_app(
            WEB_THREADS=threads,
            PAGE_CACHE_SECONDS=10,
            CACHE_TYPE="RedisCache",
            CACHE_REDIS_URL=redis_url,
            RATELIMIT_STORAGE_URI=redis_url,
        )
        with sized.app_context():
            assert cache.cache._write_client.connection_pool.max_connections == cap
            assert limiter.limiter.storage.storage.connection_pool.max_connections == cap


# -- built on first use, once ---------------------------------------------------------------------


def test_a_new_process_builds_one_gateway_for_threads_asking_at_once(fresh_app, monkeypatch):
    app, builds = fresh_app(), []
    monkeypatch.setattr(payments, "_build", slowly_counted(payments._build, builds))

    gateways = at_once(8, lambda i: payments.get_gateway(app))

    assert len(builds) == 1
    assert all(gateway is gateways[0] for gateway in gateways)


def test_unknown_emails_signing_in_at_once_make_one_dummy_hash(app, db, monkeypatch):
    hashes = []
    monkeypatch.setattr(accounts, "_DUMMY_HASHES", {})
    monkeypatch.setattr(accounts, "hash_password", slowly_counted(accounts.hash_password, hashes))

    def sign_in(i):
        with app.app_context():
            return accounts.authenticate(f"nobody{i}@example.com", "not the password")

    assert at_once(8, sign_in) == [None] * 8
    assert len(hashes) == 1


# -- the page cache ---------------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["SimpleCache", "RedisCache"])
def test_every_visitor_gets_the_page_they_asked_for(tmp_path, request, store):
    """Anonymous visitors in many threads, over more pages (and languages) than the process keeps
    copies of: each gets the page of the campaign they asked for, in their language."""
    config = {"PAGE_CACHE_SECONDS": 10}
    if store == "RedisCache":
        config.update(
            CACHE_TYPE="RedisCache",
            CACHE_REDIS_URL=request.getfixturevalue("redis_url"),
            CACHE_KEY_PREFIX=f"crowdfund-test-{secrets.token_hex(4)}:",
            PAGE_CACHE_LOCAL_BYTES=60_000,
        )  # a handful of pages: copies come and go
    with serving(tmp_path / "live", **config) as server:
        with server.app.app_context():
            make = Factories(_db)
            pages = {f"/p/{p.slug}": p.title for p in (live_reward_project(make, _db) for _ in range(10))}
            _db.session.remove()
        heading = re.compile(r"<h1[^>]*>\s*([^<]+?)\s*<")
        marks = {"en": '<html lang="en">', "zh": '<html lang="zh-Hans">'}

        def visitor(i):
            rng, session, seen = random.Random(i), requests.Session(), []
            for _ in range(30):
                path, language = rng.choice(sorted(pages)), rng.choice(["en", "zh"])
                response = session.get(server.url + path, headers={"Accept-Language": language}, timeout=60)
                title = heading.search(response.text)
                seen.append(
                    (response.status_code, title and title.group(1), marks[language] in response.text)
                    == (200, pages[path], True)
                )
            return seen

        results = at_once(8, visitor)
        if store == "RedisCache":
            with server.app.app_context():
                cache.clear()
    assert [all(seen) for seen in results] == [True] * 8, results
