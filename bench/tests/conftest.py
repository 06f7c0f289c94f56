"""The benchmark harness's tests run in `make test` with the suite's fixtures and its rule for
PostgreSQL-only tests (tests/conftest.py), which pytest applies only under tests/."""

from tests.conftest import (  # noqa: F401
    app,
    database_url,
    db,
    make,
    pytest_runtest_setup,
    redis_url,
    sandbox,
)
from tests.support.celery_broker import redis_queue  # noqa: F401
