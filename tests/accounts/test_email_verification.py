"""Email verification: a link mailed at registration; until it is followed the account may
browse, sign in and edit drafts, but not pledge, invest or submit a project (web and API:
403 `email_unverified`)."""

import re

import pytest
from sqlalchemy import func, select

from crowdfund.models import OutboxMessage, Pledge, User
from tests.accounts.sessions_helpers import browser_signed_in
from tests.api.conftest import Api
from tests.conftest import csrf_token
from tests.support.builders import investor, live_equity_project, live_reward_project
from tests.support.factories import PASSWORD
from tests.support.mail_links import body_of, last_mail, link_in, path_of, verify_by_mail

BANNER = "Please confirm your email address"


@pytest.fixture()
def api(client):
    return Api(client)


def register(client, email="newcomer@example.com", **extra):
    data = {
        "name": "Nia",
        "email": email,
        "password": PASSWORD,
        "confirm": PASSWORD,
        "accept_terms": "y",
        "csrf_token": csrf_token(client, "/account/register"),
    }
    data.update(extra)
    return client.post("/account/register", data=data)


def pledges(db):
    return db.session.scalar(select(func.count()).select_from(Pledge))


def mails_to(db, address):
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_address == address))


def back_form(client, slug):
    page = client.get(f"/p/{slug}/back").get_data(as_text=True)
    return {
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
        "idempotency_key": re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1),
    }


def test_registration_mails_a_link_that_confirms_the_address(app, db, client):
    response = register(client)
    assert response.status_code == 302
    user = db.session.scalars(select(User).where(User.email == "newcomer@example.com")).one()
    assert user.email_verified_at is None
    home = client.get("/").get_data(as_text=True)
    assert BANNER in home and "Send the link again" in home

    mail = last_mail("newcomer@example.com")
    assert mail["Subject"] == "Confirm your email address"
    assert "not pledge, invest or submit a project" in " ".join(body_of(mail).split())
    elsewhere = app.test_client()  # the link works in any browser, signed in or not
    response = elsewhere.get(path_of(link_in(mail, "/account/verify/")))
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.email_verified_at is not None
    assert "is confirmed as your email address" in elsewhere.get(response.headers["Location"]).get_data(as_text=True)
    assert BANNER not in client.get("/").get_data(as_text=True)
    # Following it again changes nothing.
    first = user.email_verified_at
    assert elsewhere.get(path_of(link_in(mail, "/account/verify/"))).status_code == 302
    db.session.refresh(user)
    assert user.email_verified_at == first


def test_an_unverified_backer_cannot_pledge_on_the_web_and_is_told_how_to_fix_it(app, make, db, client, login):
    project = live_reward_project(make, db)
    login(make.user(verified=False))
    data = back_form(client, project.slug)
    data.update(tier_id=str(project.tiers[0].id), quantity="1", payment_method="pm_card_visa")
    response = client.post(f"/p/{project.slug}/back", data=data)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Please confirm your email address first" in page
    assert 'action="/account/verify/resend"' in page and "Send the link again" in page
    assert pledges(db) == 0


def test_an_unverified_account_may_edit_drafts_but_not_submit_on_the_web(app, make, db, client, login):
    founder = make.user(verified=False)
    project = make.project(firm=make.firm(owner=founder))
    login(founder)
    edit = client.get(f"/projects/{project.id}/edit")
    assert edit.status_code == 200
    response = client.post(
        f"/projects/{project.id}/submit", data={"csrf_token": csrf_token(client, f"/projects/{project.id}/submit")}
    )
    assert response.status_code == 403
    assert "Please confirm your email address first" in response.get_data(as_text=True)
    db.session.refresh(project)
    assert project.status == "draft"


def test_the_api_refuses_pledge_investment_and_submission_with_403_email_unverified(app, make, db, api):
    reward = live_reward_project(make, db)
    equity = live_equity_project(make, db)
    person = investor(make, db, user=make.user(verified=False))
    token = api.token_for(person)
    me = api.get("/me", token=token).get_json()
    assert me["email_verified"] is False

    draft = make.project(firm=make.firm(owner=person))
    attempts = [
        api.post(
            f"/projects/{reward.id}/pledges",
            {"tier_id": reward.tiers[0].id, "payment_method": "pm_card_visa"},
            token=token,
            headers={"Idempotency-Key": "unverified-1"},
        ),
        api.post(
            f"/projects/{equity.id}/pledges",
            {"shares": 3, "payment_method": "pm_card_visa"},
            token=token,
            headers={"Idempotency-Key": "unverified-2"},
        ),
        api.post(f"/projects/{draft.id}/submit", token=token),
    ]
    for response in attempts:
        assert response.status_code == 403, response.get_json()
        assert response.get_json()["error"]["code"] == "email_unverified"
    assert pledges(db) == 0
    db.session.refresh(draft)
    assert draft.status == "draft"

    person.email_verified_at = db.session.get(User, person.id).created_at
    db.session.commit()
    assert api.get("/me", token=token).get_json()["email_verified"] is True
    ok = api.post(
        f"/projects/{reward.id}/pledges",
        {"tier_id": reward.tiers[0].id, "payment_method": "pm_card_visa"},
        token=token,
        headers={"Idempotency-Key": "unverified-3"},
    )
    assert ok.status_code == 201 and pledges(db) == 1


def test_with_verification_not_required_an_unverified_account_may_pledge(app, make, db, api, monkeypatch):
    monkeypatch.setitem(app.config, "EMAIL_VERIFICATION_REQUIRED", False)
    project = live_reward_project(make, db)
    token = api.token_for(make.user(verified=False))
    response = api.post(
        f"/projects/{project.id}/pledges",
        {"amount": 1500, "payment_method": "pm_card_visa"},
        token=token,
        headers={"Idempotency-Key": "not-required-1"},
    )
    assert response.status_code == 201


def test_an_api_sign_up_is_confirmed_from_the_mail(app, db, api):
    body = {"email": "api.person@example.com", "password": PASSWORD, "name": "Api Person", "accept_terms": True}
    created = api.post("/users", body)
    assert created.status_code == 201 and created.get_json()["email_verified"] is False
    verify_by_mail(app.test_client(), "api.person@example.com")
    token = api.token_for(db.session.scalars(select(User).where(User.email == "api.person@example.com")).one())
    assert api.get("/me", token=token).get_json()["email_verified"] is True


def test_resending_is_rate_limited_per_account(app, make, db):
    user = make.user(verified=False)
    browser = browser_signed_in(app, user)
    token = csrf_token(browser, "/")
    first = browser.post("/account/verify/resend", data={"csrf_token": token, "next": "/account/sessions"})
    assert first.status_code == 302 and first.headers["Location"] == "/account/sessions"
    assert "We sent a new link to" in browser.get("/account/sessions").get_data(as_text=True)
    assert mails_to(db, user.email) == 1
    again = browser.post("/account/verify/resend", data={"csrf_token": token})
    assert again.status_code == 429
    assert mails_to(db, user.email) == 1
    # The limit is the account's, not the address's: someone else may still ask.
    other = browser_signed_in(app, make.user(verified=False))
    assert other.post("/account/verify/resend", data={"csrf_token": csrf_token(other, "/")}).status_code == 302


def test_a_link_sent_to_an_old_address_does_not_confirm_a_new_one(app, make, db, client, login):
    user = make.user(verified=False)
    login(user)
    client.post("/account/verify/resend", data={"csrf_token": csrf_token(client, "/")})
    link = path_of(link_in(last_mail(user.email), "/account/verify/"))
    user.email = "moved@example.com"
    db.session.commit()
    refused = client.get(link)
    assert refused.status_code == 400 and "not valid" in refused.get_data(as_text=True)
    db.session.refresh(user)
    assert user.email_verified_at is None


def test_a_tampered_or_foreign_link_is_refused(app, make, db, client):
    user = make.user(verified=False)
    from crowdfund.services import password_reset

    with app.test_request_context():
        reset_token = password_reset.make_token(user)  # signed by us, for another purpose
    for token in (reset_token, "nonsense", "a" * 2000, reset_token[:-2] + "xx"):
        response = client.get(f"/account/verify/{token}")
        assert response.status_code == 400, token
    db.session.refresh(user)
    assert user.email_verified_at is None
