"""Tokens, and how the API reads requests and reports errors."""

import hashlib
from datetime import timedelta

from sqlalchemy import select

from crowdfund.models import ApiToken, Project, utcnow
from tests.api.conftest import error_of
from tests.support.factories import PASSWORD


def test_a_token_is_stored_only_as_its_sha256_and_lives_api_token_ttl(app, db, api, make, monkeypatch):
    monkeypatch.setitem(app.config, "API_TOKEN_TTL", 3600)
    user = make.user()
    response = api.post("/tokens", {"email": user.email.upper(), "password": PASSWORD, "label": "my script"})
    assert response.status_code == 201
    body = response.get_json()
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in repr(stored.__dict__)
    assert len(body["token"]) >= 43  # token_urlsafe(32)
    expires = stored.expires_at
    assert timedelta(minutes=59) < expires - utcnow() <= timedelta(hours=1)
    assert body["expires_at"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.get("/me", token=body["token"]).get_json()["email"] == user.email


def test_wrong_password_is_401_and_token_requests_are_rate_limited_like_logins(app, api, make, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN", "3 per minute")
    user = make.user()
    wrong = api.post("/tokens", {"email": user.email, "password": "not the password"})
    assert wrong.status_code == 401 and error_of(wrong)["code"] == "invalid_credentials"
    assert api.post("/tokens", {"email": "nobody@example.com", "password": PASSWORD}).status_code == 401
    assert api.post("/tokens", {"email": user.email, "password": PASSWORD}).status_code == 201
    limited = api.post("/tokens", {"email": user.email, "password": PASSWORD})
    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited"


def test_registration_errors_name_the_field(api, make):
    response = api.post("/users", {"email": "not-an-address", "password": PASSWORD, "name": "A", "accept_terms": True})
    assert response.status_code == 422
    assert "email" in error_of(response)["fields"]
    api.post("/users", {"email": "taken@example.com", "password": PASSWORD, "name": "A", "accept_terms": True})
    again = api.post("/users", {"email": "Taken@Example.com", "password": PASSWORD, "name": "B", "accept_terms": True})
    assert again.status_code == 409 and error_of(again)["code"] == "email_taken"
    token = api.token_for(make.user())
    firm = {"name": "Cup Co Ltd", "registration_number": "12345678", "country": "GB", "address": "1 Cup St"}
    assert api.post("/firms", firm, token=token).status_code == 201
    copy = api.post("/firms", {**firm, "name": "Copy Co Ltd"}, token=token)
    assert copy.status_code == 409 and error_of(copy)["fields"] == {
        "registration_number": "A firm with this registration number is already registered."
    }


def test_malformed_requests(api, make, db):
    user = make.user()
    token = api.token_for(user)
    firm = make.firm(owner=user)
    not_json = api.post("/projects", data="title=x", token=token, content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 400 and error_of(not_json)["code"] == "invalid_json"
    a_list = api.post("/projects", [1, 2], token=token)
    assert a_list.status_code == 400
    valid = {
        "firm_id": firm.id,
        "kind": "reward",
        "title": "T",
        "summary": "S",
        "category": "design",
        "currency": "USD",
        "goal": 1000,
    }
    typo = api.post("/projects", {**valid, "colour": "red"}, token=token)
    assert typo.status_code == 422 and error_of(typo)["fields"] == {"colour": "This field is not known here."}
    for goal in ("10", 10.5, True, None):
        wrong = api.post("/projects", {**valid, "goal": goal}, token=token)
        assert wrong.status_code == 422 and error_of(wrong)["fields"] == {"goal": "This must be a whole number."}
    nul = api.post("/projects", {**valid, "title": "Tea\x00pot"}, token=token)
    assert nul.status_code == 422 and "NUL" in error_of(nul)["fields"]["title"]
    missing = api.post("/projects", {"kind": "reward"}, token=token)
    assert missing.status_code == 422 and error_of(missing)["fields"]["firm_id"] == "This field is required."
    negative = api.post("/projects", {**valid, "goal": -5}, token=token)
    assert negative.status_code == 422 and error_of(negative)["fields"] == {"goal": "The amount cannot be negative."}
    assert db.session.scalar(select(Project.id)) is None


def test_amounts_are_minor_units_of_the_projects_currency(api, make):
    user = make.user()
    token = api.token_for(user)
    firm = make.firm(owner=user)
    base = {"firm_id": firm.id, "kind": "reward", "title": "T", "summary": "S", "category": "design"}
    yen = api.post("/projects", {**base, "currency": "JPY", "goal": 500000}, token=token).get_json()
    dollars = api.post("/projects", {**base, "currency": "USD", "goal": 500000}, token=token).get_json()
    assert (yen["goal"], dollars["goal"]) == (500000, 500000)  # ¥500,000 and $5,000.00, as sent
    absurd = api.post("/projects", {**base, "currency": "USD", "goal": 10**40}, token=token)
    assert absurd.status_code == 422 and error_of(absurd)["fields"] == {"goal": "That amount is too large."}
    tier = api.post(
        f"/projects/{dollars['id']}/tiers",
        {"title": "Mug", "price": 1250, "quantity": 10**12, "estimated_delivery": f"{utcnow().year + 1}-01"},
        token=token,
    )
    assert tier.status_code == 422 and "quantity" in error_of(tier)["fields"]


def test_ids_out_of_range_are_404_not_errors(api, make):
    token = api.token_for(make.user())
    for path in (
        "/projects/0",
        "/projects/99999999999999999999",
        "/pledges/9223372036854775808",
        "/projects/2147483648/statement",
    ):
        response = api.get(path, token=token)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    assert api.patch("/projects/0", {}, token=token).status_code == 404


def test_wrong_method_and_unknown_path_answer_in_json(api):
    wrong = api.delete("/projects")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"
    assert error_of(api.get("/nothing/here"))["code"] == "not_found"


def test_the_api_needs_no_csrf_token_and_ignores_the_web_session(app, client, api, make, login):
    user = make.user()
    login(user)  # a browser session cookie is not an API credential
    assert api.get("/me").status_code == 401
    token = api.token_for(user)
    assert (
        api.post(
            "/firms",
            {"name": "Cup Co Ltd", "registration_number": "12345678", "country": "GB", "address": "1 Cup St"},
            token=token,
        ).status_code
        == 201
    )
