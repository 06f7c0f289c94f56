"""A Redis server a test starts and stops itself: `redis-server` on 127.0.0.1 and a free port,
keeping nothing on disk. For faults the test controls (Redis gone mid-run), unlike the shared
local Redis of `redis_url`.

    def test_x(redis_process):           # started; stopped after the test
        ...redis_process.url(0)...
        redis_process.stop()             # now connections are refused
        redis_process.start()            # back, on the same port, empty
"""

import os
import shutil
import subprocess
import time

import pytest

from tests.support.mailserver import free_port


class RedisProcess:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.process = None

    def url(self, db=0):
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db=0):
        import redis

        return redis.Redis.from_url(self.url(db), socket_connect_timeout=1)

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with self.client() as client:
                    client.ping()
                return self
            except Exception:  # noqa: BLE001 - not up yet: try again until the deadline
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture()
def redis_process():
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server must be installed when CI=true")
        pytest.skip("redis-server is not installed")
    server = RedisProcess().start()
    try:
        yield server
    finally:
        server.stop()
