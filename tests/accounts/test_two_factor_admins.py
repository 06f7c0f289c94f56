"""Administrators need two-factor sign-in (ADMIN_2FA_REQUIRED, on by default): at their first
sign-in without it they enrol before anything else, on the web and in the API."""

import re

import pyotp
from sqlalchemy import select

from crowdfund.models import Project, ProjectStatus, Review
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD, otp_for

ENROL = "/account/2fa"


def test_an_admin_without_it_is_sent_to_enrol_from_every_page(client, make, login, db):
    project = make.submitted_project()
    admin = login(make.admin(two_factor=False))
    for path in ("/", "/admin/reviews", f"/admin/reviews/{project.id}", "/firms/", "/account/password"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith(ENROL), path
    page = client.get(ENROL).get_data(as_text=True)
    assert "Administrators must use two-factor authentication" in page

    # An admin action is refused until then: nothing changes.
    decide = f"/admin/reviews/{project.id}"
    refused = client.post(decide, data={"decision": "reject", "note": "No.", "csrf_token": csrf_token(client, ENROL)})
    assert refused.status_code == 302 and refused.headers["Location"].endswith(ENROL)
    assert db.session.scalars(select(Review)).all() == []
    assert db.session.get(Project, project.id).status == ProjectStatus.IN_REVIEW

    secret = re.search(r'data-testid="two-factor-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    done = client.post(ENROL, data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(client, ENROL)})
    assert done.status_code == 200 and "Your recovery codes" in done.get_data(as_text=True)
    assert client.get("/admin/reviews").status_code == 200
    assert admin.is_admin


def test_an_admin_signs_in_with_the_code_and_may_not_turn_it_off(client, make, login, db):
    admin = make.admin()
    response = client.post(
        "/account/login",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/account/login")},
    )
    assert response.headers["Location"].endswith("/account/2fa/verify")
    assert client.get("/admin/reviews").status_code == 302  # not signed in yet
    client.post(
        "/account/2fa/verify", data={"code": otp_for(admin), "csrf_token": csrf_token(client, "/account/2fa/verify")}
    )
    assert client.get("/admin/reviews").status_code == 200
    assert "Turn off two-factor authentication" not in client.get(ENROL).get_data(as_text=True)
    off = client.get("/account/2fa/disable")
    assert off.status_code == 302 and off.headers["Location"].endswith(ENROL)


def test_with_the_rule_off_an_admin_may_act_without_it(client, make, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "ADMIN_2FA_REQUIRED", False)
    login(make.admin(two_factor=False))
    assert client.get("/admin/reviews").status_code == 200


def test_the_admin_api_refuses_an_admin_without_it(api, make, db):
    project = make.submitted_project()
    admin = make.admin(two_factor=False)
    token = api.token_for(admin)  # a token is given: the account has no code to ask for
    refused = api.post(f"/admin/projects/{project.id}/review", {"decision": "reject", "note": "No."}, token=token)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "two_factor_required"
    assert db.session.scalars(select(Review)).all() == []
    assert api.get("/me", token=token).status_code == 200  # the rest of the API is the admin's as anyone's

    enrolled = make.admin()
    accepted = api.post(
        f"/admin/projects/{project.id}/review", {"decision": "reject", "note": "No."}, token=api.token_for(enrolled)
    )
    assert accepted.status_code == 200, accepted.get_json()
