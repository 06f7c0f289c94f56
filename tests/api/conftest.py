import pytest

from crowdfund.services import two_factor
from tests.support.factories import PASSWORD, otp_for

PREFIX = "/api/v1"


class Api:
    """The test client speaking JSON to /api/v1, with an optional bearer token."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, json=None, token=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.open(PREFIX + path, method=method, json=json, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.call("PATCH", path, json=json, **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.call("PUT", path, json=json, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)

    def token_for(self, user, password=PASSWORD):
        body = {"email": user.email, "password": password}
        if two_factor.is_enabled(user):
            body["otp"] = otp_for(user)
        response = self.post("/tokens", body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["token"]


@pytest.fixture()
def api(client):
    return Api(client)


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]
