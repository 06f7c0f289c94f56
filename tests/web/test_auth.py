import re

from crowdfund.models import User
from crowdfund.services import accounts
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD


def register(client, email="ada@example.com", password=PASSWORD, name="Ada", confirm=None):
    return client.post(
        "/account/register",
        data={
            "name": name,
            "email": email,
            "password": password,
            "confirm": confirm or password,
            "accept_terms": "y",
            "csrf_token": csrf_token(client, "/account/register"),
        },
    )


def user_count(db):
    return db.session.query(User).count()


def test_register_logs_the_person_in(client, db):
    response = register(client, email="Ada.Lovelace@Example.COM")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Ada" in page and "Log out" in page
    assert db.session.query(User).one().email == "ada.lovelace@example.com"


def test_duplicate_email_in_any_case_is_refused(client, db):
    register(client, email="ada@example.com")
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    response = register(client, email="ADA@Example.com", name="Second Ada")
    assert response.status_code == 409  # the service's Conflict, not the form's 422
    page = response.get_data(as_text=True)
    assert "An account with this email address already exists." in page
    assert 'value="Second Ada"' in page  # the form again, with what was typed
    assert user_count(db) == 1


def test_an_email_registered_by_someone_else_a_moment_before_is_a_409_not_an_error(client, db, monkeypatch):
    # Two people registering the same address at once: the other one committed after our check.
    register(client, email="ada@example.com")
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    monkeypatch.setattr(accounts, "find_by_email", lambda email: None)

    response = register(client, email="ada@example.com", name="Second Ada")

    assert response.status_code == 409
    assert "An account with this email address already exists." in response.get_data(as_text=True)
    assert user_count(db) == 1


def test_weak_password_is_refused_with_a_reason(client, db):
    response = register(client, password="short")
    assert response.status_code == 422
    assert "at least 10 characters" in response.get_data(as_text=True)
    response = register(client, password="1234567890")
    assert "too easy to guess" in response.get_data(as_text=True)
    assert user_count(db) == 0


def test_bad_email_is_refused(client, db):
    response = register(client, email="not-an-email")
    assert response.status_code == 422
    assert "not valid" in response.get_data(as_text=True)
    assert user_count(db) == 0


def test_mismatched_confirmation_is_refused(client, db):
    response = register(client, confirm="something else entirely")
    assert response.status_code == 422
    assert "The two passwords differ" in response.get_data(as_text=True)
    assert user_count(db) == 0


def test_form_without_csrf_token_is_rejected(client, db):
    response = client.post(
        "/account/register", data={"name": "Eve", "email": "eve@example.com", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert user_count(db) == 0


def test_login_and_logout(client, make):
    user = make.user(email="bo@example.com")
    response = client.post(
        "/account/login",
        data={"email": "BO@example.com", "password": PASSWORD, "csrf_token": csrf_token(client, "/account/login")},
    )
    assert response.status_code == 302
    assert user.name in client.get("/").get_data(as_text=True)
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_wrong_password_is_refused_without_saying_which_part(client, make):
    make.user(email="bo@example.com")
    for email in ("bo@example.com", "nobody@example.com"):
        response = client.post(
            "/account/login",
            data={"email": email, "password": "wrong password!", "csrf_token": csrf_token(client, "/account/login")},
        )
        assert response.status_code == 422
        assert "do not match an account" in response.get_data(as_text=True)


def test_login_follows_a_local_next(client, make):
    user = make.user()
    response = client.post(
        "/account/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "next": "/firms/",
            "csrf_token": csrf_token(client, "/account/login"),
        },
    )
    assert response.headers["Location"] == "/firms/"


def test_open_redirect_attempts_are_refused(app, make):
    user = make.user()
    for evil in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
        "https:/evil.example",
    ):
        client = app.test_client()
        response = client.post(
            "/account/login",
            data={
                "email": user.email,
                "password": PASSWORD,
                "next": evil,
                "csrf_token": csrf_token(client, "/account/login"),
            },
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/", evil


def test_pages_that_need_a_login_send_people_to_it(client, db):
    response = client.get("/firms/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


def test_change_password(client, make, login):
    user = login(make.user())
    token = csrf_token(client, "/account/password")
    response = client.post(
        "/account/password",
        data={
            "current_password": "not my password",
            "new_password": "a brand new phrase",
            "confirm": "a brand new phrase",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "current password is not right" in response.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new phrase",
            "confirm": "a brand new phrase",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    response = client.post(
        "/account/login",
        data={
            "email": user.email,
            "password": "a brand new phrase",
            "csrf_token": csrf_token(client, "/account/login"),
        },
    )
    assert response.status_code == 302


def test_login_is_rate_limited(client, make):
    user = make.user()
    token = csrf_token(client, "/account/login")
    # A different address each time: one account's own budget is smaller (tests/accounts/test_throttling.py).
    statuses = [
        client.post(
            "/account/login", data={"email": f"guess{n}@example.com", "password": "guess number x", "csrf_token": token}
        ).status_code
        for n in range(12)
    ]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    assert "too many attempts" in client.post(
        "/account/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    ).get_data(as_text=True)


def test_session_cookie_is_httponly_and_lax(client, make):
    user = make.user()
    response = client.post(
        "/account/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/account/login")},
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert re.search(r"session=", cookie)
