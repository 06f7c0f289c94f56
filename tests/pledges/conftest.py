import pytest

from crowdfund.payments import get_gateway


@pytest.fixture(autouse=True)
def sandbox(app):
    """The app's sandbox gateway, with no injected faults before or after the test."""
    gateway = get_gateway(app)
    gateway.faults.reset()
    yield gateway
    gateway.faults.reset()
    app.extensions["payment_gateway"] = gateway


@pytest.fixture()
def use_gateway(app):
    """Install another gateway for one test (restored by `sandbox`)."""
    def install(gateway):
        app.extensions["payment_gateway"] = gateway
        return gateway
    return install
