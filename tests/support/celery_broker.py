"""The local Redis as a Celery broker for tests: a queue of the test's own in database 15.

# conftest.py: from tests.support.celery_broker import redis_queue  # noqa: F401  (fixture)
from tests.support.celery_broker import send_jobs_to

def test_x(app, redis_queue, monkeypatch):
    send_jobs_to(monkeypatch, app, redis_queue.name)   # enqueue() now goes to that queue
    ...redis_queue.client.lrange(redis_queue.name, 0, -1)...
"""

import uuid
from typing import NamedTuple

import pytest

REDIS_URL = "redis://127.0.0.1:6379/15"


class RedisQueue(NamedTuple):
    client: object  # redis.Redis on REDIS_URL
    name: str


@pytest.fixture()
def redis_queue(redis_url):
    """A fresh queue name on the local Redis (`redis_url`: skipped when Redis does not answer,
    failed under CI=true)."""
    import kombu.pools
    import redis

    assert redis_url == REDIS_URL
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    name = f"crowdfund-test-{uuid.uuid4().hex[:10]}"
    yield RedisQueue(client, name)
    kombu.pools.reset()  # close the broker connections the test opened
    client.delete(
        name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}", *client.scan_iter(f"{name}:sweep-queued:*")
    )
    client.close()


def send_jobs_to(monkeypatch, app, queue_name):
    """Make `enqueue` send tasks to `queue_name` on the local Redis for this test."""
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "CELERY_TASK_DEFAULT_QUEUE", queue_name)
    monkeypatch.setitem(app.extensions, "celery", None)  # built afresh, dropped afterwards
