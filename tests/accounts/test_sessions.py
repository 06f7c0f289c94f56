"""Sessions that end when they should: a signed-in browser is a record on the server, and a
copy of its cookie is worth nothing once the record ended (logout, a password change, the
sessions page)."""

import re
from datetime import timedelta

from sqlalchemy import select

from crowdfund.models import ApiToken, UserSession, utcnow
from crowdfund.services import api_tokens
from tests.accounts.sessions_helpers import browser_signed_in, copy_of, is_signed_in
from tests.api.conftest import Api
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def live_sessions(db, user):
    return db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).all()


def test_a_copied_session_cookie_stops_working_after_logout(app, make, db):
    user = make.user()
    browser = browser_signed_in(app, user)
    thief = copy_of(app, browser)
    assert is_signed_in(thief)  # the copy works while the session lives: the test can see it fail

    browser.post("/account/logout", data={"csrf_token": csrf_token(browser, "/")})

    assert not is_signed_in(browser)
    assert not is_signed_in(thief)
    assert live_sessions(db, user) == []


def test_the_cookie_carries_a_random_key_and_the_table_only_its_digest(app, make, db):
    user = make.user()
    browser = browser_signed_in(app, user)
    record = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    cookie = browser.get_cookie("session").value
    assert record.key_digest not in cookie
    assert str(user.id) != record.key_digest and len(record.key_digest) == 64
    # A cookie naming the user's id, as sessions did before, signs nobody in.
    with app.test_request_context():
        from flask import session

        session["_user_id"] = str(user.id)
        forged = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    forger = app.test_client()
    forger.set_cookie("session", forged)
    assert not is_signed_in(forger)


def test_a_password_change_ends_every_other_session_and_revokes_api_tokens(app, make, db):
    user = make.user()
    laptop = browser_signed_in(app, user)
    thief = copy_of(app, laptop)
    phone = browser_signed_in(app, user, user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1")
    api = Api(app.test_client())
    token = api.token_for(user)
    assert api.get("/me", token=token).status_code == 200

    response = phone.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(phone, "/account/password"),
        },
    )
    assert response.status_code == 302
    assert "signed out" in phone.get("/").get_data(as_text=True)

    assert is_signed_in(phone)  # the browser that changed it stays in
    assert not is_signed_in(laptop)
    assert not is_signed_in(thief)
    assert api.get("/me", token=token).status_code == 401
    assert len(live_sessions(db, user)) == 1


def test_the_sessions_page_lists_browsers_and_tokens_and_ends_them(app, make, db):
    user = make.user()
    laptop = browser_signed_in(app, user)
    phone = browser_signed_in(app, user, user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1")
    api = Api(app.test_client())
    token = api.post("/tokens", {"email": user.email, "password": PASSWORD, "label": "my spreadsheet"}).get_json()
    page = laptop.get("/account/sessions").get_data(as_text=True)
    assert "Firefox on Linux" in page and "Safari on iPhone" in page
    assert page.count("This device") == 1
    assert "my spreadsheet" in page

    phone_session = next(s for s in live_sessions(db, user) if "iPhone" in s.user_agent)
    response = laptop.post(
        f"/account/sessions/{phone_session.id}/end", data={"csrf_token": csrf_token(laptop, "/account/sessions")}
    )
    assert response.status_code == 302
    assert not is_signed_in(phone)
    assert is_signed_in(laptop)
    assert "Safari on iPhone" not in laptop.get("/account/sessions").get_data(as_text=True)

    token_row = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    response = laptop.post(
        f"/account/tokens/{token_row.id}/revoke", data={"csrf_token": csrf_token(laptop, "/account/sessions")}
    )
    assert response.status_code == 302
    assert api.get("/me", token=token["token"]).status_code == 401
    assert "my spreadsheet" not in laptop.get("/account/sessions").get_data(as_text=True)


def test_ending_the_own_session_from_the_page_logs_out_and_others_can_all_be_ended(app, make, db):
    user = make.user()
    first, second, third = (browser_signed_in(app, user) for _ in range(3))
    response = first.post("/account/sessions/end-others", data={"csrf_token": csrf_token(first, "/account/sessions")})
    assert response.status_code == 302
    assert "2 sessions ended" in first.get("/account/sessions").get_data(as_text=True)
    assert (is_signed_in(first), is_signed_in(second), is_signed_in(third)) == (True, False, False)
    own = live_sessions(db, user)[0]
    first.post(f"/account/sessions/{own.id}/end", data={"csrf_token": csrf_token(first, "/account/sessions")})
    assert not is_signed_in(first)


def test_nobody_ends_another_persons_session_or_token(app, make, db):
    owner, other = make.user(), make.user()
    owner_browser = browser_signed_in(app, owner)
    other_browser = browser_signed_in(app, other)
    raw, token = api_tokens.issue_token(owner.email, PASSWORD)
    db.session.commit()
    session_id = live_sessions(db, owner)[0].id
    token_id = token.id
    for path in (
        f"/account/sessions/{session_id}/end",
        f"/account/tokens/{token_id}/revoke",
        "/account/sessions/2147483648/end",
        "/account/tokens/99999999999999999999/revoke",
    ):
        response = other_browser.post(path, data={"csrf_token": csrf_token(other_browser, "/account/sessions")})
        assert response.status_code == 404, path
    assert is_signed_in(owner_browser)
    assert Api(app.test_client()).get("/me", token=raw).status_code == 200
    page = other_browser.get("/account/sessions").get_data(as_text=True)
    assert f"/account/sessions/{session_id}/end" not in page


def test_ending_needs_a_post_with_the_csrf_token(app, make, db):
    user = make.user()
    browser = browser_signed_in(app, user)
    session_id = live_sessions(db, user)[0].id
    assert browser.get(f"/account/sessions/{session_id}/end").status_code == 405
    assert browser.post(f"/account/sessions/{session_id}/end").status_code == 400
    assert is_signed_in(browser)


def test_last_seen_is_written_at_most_every_few_minutes(app, make, db):
    user = make.user()
    browser = browser_signed_in(app, user)
    record = live_sessions(db, user)[0]
    ten_minutes_ago = utcnow() - timedelta(minutes=10)
    record.last_seen_at = ten_minutes_ago
    db.session.commit()

    assert is_signed_in(browser)
    db.session.refresh(record)
    touched = record.last_seen_at
    assert touched > ten_minutes_ago + timedelta(minutes=9)

    assert is_signed_in(browser)
    db.session.refresh(record)
    assert record.last_seen_at == touched  # within SESSION_TOUCH_INTERVAL: nothing written


def test_a_session_unseen_for_the_idle_timeout_has_ended(app, make, db):
    user = make.user()
    browser = browser_signed_in(app, user)
    record = live_sessions(db, user)[0]
    record.last_seen_at = utcnow() - timedelta(seconds=app.config["SESSION_IDLE_TIMEOUT"] + 60)
    db.session.commit()
    assert not is_signed_in(browser)


def test_a_suspended_account_is_signed_out_of_its_live_sessions(app, make, db):
    user = make.user()
    browser = browser_signed_in(app, user)
    user.suspended_at = utcnow()
    db.session.commit()
    assert not is_signed_in(browser)


def test_registration_signs_in_through_a_session_record(app, db, client):
    response = client.post(
        "/account/register",
        data={
            "name": "Rosa",
            "email": "rosa@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "accept_terms": "y",
            "csrf_token": csrf_token(client, "/account/register"),
        },
    )
    assert response.status_code == 302
    assert is_signed_in(client)
    record = db.session.scalars(select(UserSession)).one()
    assert record.user.email == "rosa@example.com" and record.ended_at is None
    assert re.fullmatch(r"[0-9a-f]{64}", record.key_digest)
