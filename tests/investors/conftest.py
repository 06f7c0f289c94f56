import pytest

from tests.api.conftest import Api


@pytest.fixture()
def api(client):
    return Api(client)


@pytest.fixture()
def rulebook(app, monkeypatch):
    """Put a rulebook (and any config figures) in force for one test."""

    def use(key="us_reg_cf", **figures):
        monkeypatch.setitem(app.config, "INVESTOR_RULEBOOK", key)
        for name, value in figures.items():
            monkeypatch.setitem(app.config, name, value)

    return use
