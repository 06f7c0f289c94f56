"""Browsers for the session tests: each a test client of its own (its own cookie jar)."""

from tests.conftest import csrf_token
from tests.support.factories import PASSWORD, pass_second_step

COOKIE = "session"


def browser_signed_in(app, user, password=PASSWORD, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"):
    """A new browser (test client) that signed in as `user` through the login page."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    response = client.post(
        "/account/login",
        data={"email": user.email, "password": password, "csrf_token": csrf_token(client, "/account/login")},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    if response.headers["Location"].endswith("/account/2fa/verify"):
        pass_second_step(client, user)
    return client


def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie (as a thief would)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return thief


def is_signed_in(client):
    """Whether `client` is signed in: a page for signed-in people answers 200, not a redirect to log in."""
    response = client.get("/account/sessions")
    if response.status_code == 302:
        assert "/account/login" in response.headers["Location"]
        return False
    assert response.status_code == 200, response.status_code
    return True
