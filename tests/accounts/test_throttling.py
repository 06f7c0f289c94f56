"""Failed sign-ins are limited per account as well as per address, the web login and the API's
token requests sharing each budget; with the limits' Redis stopped, both still work, and limit."""

import re

import pytest
import requests

from tests.accounts.app_process import serving_in_a_process
from tests.api.conftest import error_of
from tests.conftest import backend, csrf_token, new_database
from tests.support.factories import PASSWORD

LOCKED = "Too many failed sign-ins for this account"


@pytest.fixture()
def roomy_address_budget(app, monkeypatch):
    """The per-address budget out of the way: these tests are about the per-account one."""
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "1000 per minute")


def web_login(client, email, password):
    return client.post(
        "/account/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(client, "/account/login")},
    )


def test_failed_sign_ins_lock_the_account_across_the_web_and_the_api(client, api, make, roomy_address_budget):
    user, other = make.user(), make.user()
    for _ in range(3):
        assert web_login(client, user.email, "a wrong guess!").status_code == 422
    for _ in range(2):
        assert api.post("/tokens", {"email": user.email.upper(), "password": "a wrong guess!"}).status_code == 401

    locked = web_login(client, user.email, PASSWORD)  # the right password, too late
    assert locked.status_code == 429 and LOCKED in locked.get_data(as_text=True)
    assert client.get("/me/pledges").status_code == 302  # not signed in
    refused = api.post("/tokens", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 429 and error_of(refused)["code"] == "rate_limited"
    assert LOCKED in error_of(refused)["message"]

    assert web_login(client, other.email, PASSWORD).status_code == 302  # nobody else is locked out


def test_an_address_without_an_account_is_locked_with_the_same_words(client, make, roomy_address_budget):
    user = make.user()
    for email in (user.email, "nobody-here@example.com"):
        for _ in range(5):
            web_login(client, email, "a wrong guess!")
    known = web_login(client, user.email, PASSWORD)
    unknown = web_login(client, "nobody-here@example.com", PASSWORD)
    assert known.status_code == unknown.status_code == 429

    def message(response):
        page = response.get_data(as_text=True)
        return re.search(r'<div class="form-errors" role="alert">\s*<p>(.*?)</p>', page).group(1)

    assert message(known) == message(unknown) and LOCKED in message(known)


def test_a_successful_sign_in_forgives_earlier_slips(client, make, roomy_address_budget):
    user = make.user()
    for _ in range(4):
        web_login(client, user.email, "a wrong guess!")
    assert web_login(client, user.email, PASSWORD).status_code == 302
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    for _ in range(4):
        web_login(client, user.email, "a wrong guess!")
    assert web_login(client, user.email, PASSWORD).status_code == 302


def test_the_per_address_budget_is_shared_by_the_web_and_the_api(client, api, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "4 per minute")
    user = make.user()
    assert web_login(client, "first@example.com", "a wrong guess!").status_code == 422
    assert api.post("/tokens", {"email": "second@example.com", "password": "x"}).status_code == 401
    assert web_login(client, "third@example.com", "a wrong guess!").status_code == 422
    assert api.post("/tokens", {"email": user.email, "password": PASSWORD}).status_code == 201
    assert api.post("/tokens", {"email": user.email, "password": PASSWORD}).status_code == 429
    assert web_login(client, user.email, PASSWORD).status_code == 429


# --- Redis stopped ------------------------------------------------------------------------------


def web_session(server, email, password):
    """(response to the login form, the browser session) on a server in another process."""
    browser = requests.Session()
    page = browser.get(f"{server.url}/account/login", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = browser.post(
        f"{server.url}/account/login",
        allow_redirects=False,
        timeout=30,
        data={"email": email, "password": password, "csrf_token": token},
    )
    return response, browser


def token_request(server, email, password):
    return requests.post(f"{server.url}/api/v1/tokens", json={"email": email, "password": password}, timeout=30)


def test_with_redis_stopped_sign_in_and_tokens_still_work_and_still_limit(tmp_path, redis_process):
    people = [{"email": f"{name}@example.com", "password": PASSWORD} for name in ("ada", "bob", "cy")]
    with new_database(backend(), tmp_path) as url:
        config = {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_STORAGE_URI": redis_process.url(0),
            "RATELIMIT_LOGIN": "100 per minute",
            "RATELIMIT_LOGIN_ACCOUNT": "3 per 15 minutes",
        }
        with serving_in_a_process(tmp_path, config, people) as server:
            # Redis up: the limits are counted there.
            response, _browser = web_session(server, "ada@example.com", "a wrong guess!")
            assert response.status_code == 422
            with redis_process.client(0) as store:
                assert any(b"sign-in-account" in key for key in store.keys("*"))

            redis_process.stop()
            response, browser = web_session(server, "ada@example.com", PASSWORD)
            assert response.status_code == 302
            assert browser.get(f"{server.url}/me/pledges", allow_redirects=False, timeout=30).status_code == 200
            issued = token_request(server, "bob@example.com", PASSWORD)
            assert issued.status_code == 201, issued.text
            me = requests.get(
                f"{server.url}/api/v1/me", timeout=30, headers={"Authorization": f"Bearer {issued.json()['token']}"}
            )
            assert me.json()["email"] == "bob@example.com"

            # ... and they still limit, in the process: cy's budget spent on the web and the API together.
            assert web_session(server, "cy@example.com", "a wrong guess!")[0].status_code == 422
            assert token_request(server, "cy@example.com", "a wrong guess!").status_code == 401
            assert web_session(server, "cy@example.com", "a wrong guess!")[0].status_code == 422
            locked, _browser = web_session(server, "cy@example.com", PASSWORD)
            assert locked.status_code == 429 and LOCKED in locked.text
            assert token_request(server, "cy@example.com", PASSWORD).status_code == 429
        assert "Rate limit storage unreachable" in server.log()
