import pytest

from tests.conftest import backend


def pytest_runtest_setup(item):
    """Tests marked postgres_only need real row locks and concurrent transactions."""
    if item.get_closest_marker("postgres_only") and backend() != "postgresql":
        pytest.skip("needs PostgreSQL (run with TEST_DB=postgresql)")
