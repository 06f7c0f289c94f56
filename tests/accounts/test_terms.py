"""Terms and privacy consent at registration, with the version accepted kept on the account."""

import pytest
from sqlalchemy import func, select

from crowdfund.models import User
from tests.api.conftest import Api, error_of
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD


def users(db):
    return db.session.scalar(select(func.count()).select_from(User))


def test_the_web_form_needs_the_box_ticked_and_keeps_the_version(app, db, client):
    page = client.get("/account/register").get_data(as_text=True)
    assert 'href="/terms"' in page and 'href="/privacy"' in page
    data = {
        "name": "Tao",
        "email": "tao@example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "csrf_token": csrf_token(client, "/account/register"),
    }
    refused = client.post("/account/register", data=data)
    assert refused.status_code == 422
    assert "Please accept the terms of use and the privacy notice" in refused.get_data(as_text=True)
    assert users(db) == 0

    accepted = client.post("/account/register", data={**data, "accept_terms": "y"})
    assert accepted.status_code == 302
    user = db.session.scalars(select(User)).one()
    assert user.terms_version == app.config["TERMS_VERSION"] == "2026-12-01"
    assert user.terms_accepted_at is not None


@pytest.mark.parametrize(
    "accept, code", [(None, "validation_error"), (False, "terms_not_accepted"), ("yes", "validation_error")]
)
def test_the_api_needs_accept_terms_true(app, db, client, accept, code):
    api = Api(client)
    body = {"email": "api.terms@example.com", "password": PASSWORD, "name": "Terms"}
    if accept is not None:
        body["accept_terms"] = accept
    response = api.post("/users", body)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == code and "accept_terms" in error["fields"]
    assert users(db) == 0


def test_the_api_keeps_the_version_accepted(app, db, client):
    response = Api(client).post(
        "/users", {"email": "api.terms@example.com", "password": PASSWORD, "name": "Terms", "accept_terms": True}
    )
    assert response.status_code == 201
    user = db.session.scalars(select(User)).one()
    assert (user.terms_version, user.terms_accepted_at is not None) == (app.config["TERMS_VERSION"], True)


@pytest.mark.parametrize(
    "path, english, chinese", [("/terms", "Terms of use", "使用条款"), ("/privacy", "Privacy notice", "隐私声明")]
)
def test_the_terms_and_privacy_pages_speak_both_languages(client, db, app, path, english, chinese):
    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"<h1>{english}</h1>" in text and app.config["TERMS_VERSION"] in text
    zh = client.get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert f"<h1>{chinese}</h1>" in zh and english not in zh.split("<main", 1)[1].split("</main>")[0]
