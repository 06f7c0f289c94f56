"""Faults a test controls, injected under a real server (tests/support/live_server.py): a Redis of
the test's own to stop and start."""

import os
import shutil
import socket
import subprocess
import time
from contextlib import ExitStack

import pytest

from tests.support.live_server import serving
from tests.test_database import make_app  # noqa: F401  (a fixture)

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture()
def live(tmp_path):
    """live(**config) -> a LiveServer, stopped (and its database dropped) after the test."""
    with ExitStack() as stack:
        count = 0

        def start(**config):
            nonlocal count
            count += 1
            return stack.enter_context(serving(tmp_path / f"live{count}", **config))

        yield start


class RedisServer:
    """A redis-server of the test's own on a free port, that the test stops and starts again."""

    def __init__(self, directory):
        self.directory = directory
        self.port = _free_port()
        self.process = None

    def url(self, database=0):
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self):
        import redis

        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url(), socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)
        client.close()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def client(self, database=0):
        import redis

        return redis.Redis.from_url(self.url(database), socket_connect_timeout=1)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def redis_server(tmp_path):
    """A running RedisServer, stopped after the test; skipped without redis-server (except under CI)."""
    if not os.path.exists(REDIS_SERVER):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{REDIS_SERVER} is needed under CI=true")
        pytest.skip(f"{REDIS_SERVER} is missing")
    import kombu.pools

    server = RedisServer(tmp_path)
    server.start()
    yield server
    kombu.pools.reset()  # the broker connections the test's apps opened to it
    server.stop()
