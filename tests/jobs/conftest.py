import pytest

from tests.conftest import backend
from tests.support.celery_broker import redis_queue  # noqa: F401  (fixture)
from tests.support.mailserver import no_mail_server, outbox_web_app, smtp_server  # noqa: F401  (fixtures)


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres_only") and backend() != "postgresql":
        pytest.skip("needs PostgreSQL row locks (run with TEST_DB=postgresql)")
