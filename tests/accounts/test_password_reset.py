"""Password reset by email: from the mail alone, once, within PASSWORD_RESET_TTL, with the same
answer for every address, and everyone who knew the old password signed out."""

import re
import time

from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from crowdfund.models import OutboxMessage, User
from crowdfund.services import accounts
from tests.accounts.sessions_helpers import browser_signed_in, copy_of, is_signed_in
from tests.api.conftest import Api
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD
from tests.support.mail_links import body_of, last_mail, link_in, path_of

NEW_PASSWORD = "remembered at last, truly"


def ask_for_link(client, email):
    return client.post("/account/forgot", data={"email": email, "csrf_token": csrf_token(client, "/account/forgot")})


def set_password(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(
        path,
        data={"password": password, "confirm": confirm or password, "csrf_token": csrf_token(client, "/account/login")},
    )


def reset_link(user):
    return path_of(link_in(last_mail(user.email), "/account/reset/"))


def main_text(response):
    html = response.get_data(as_text=True)
    return re.search(r"<main.*?</main>", html, re.S).group(0)


def test_a_forgotten_password_is_reset_from_the_mail_alone(app, make, db, client):
    user = make.user(email="forgetful@example.com")
    login_page = client.get("/account/login").get_data(as_text=True)
    assert 'href="/account/forgot"' in login_page and "Forgot your password?" in login_page

    response = ask_for_link(client, "  Forgetful@Example.com ")
    assert response.status_code == 200
    assert "we have mailed it a link" in response.get_data(as_text=True)

    mail = last_mail("forgetful@example.com")
    assert mail["Subject"] == "Reset your Crowdfund password"
    assert "60 minutes" in body_of(mail)
    link = link_in(mail, "/account/reset/")
    assert link.startswith("http://localhost/account/reset/")

    stranger = app.test_client()  # the mail may be opened anywhere: nothing but the link is needed
    form = stranger.get(path_of(link))
    assert form.status_code == 200 and "forgetful@example.com" in form.get_data(as_text=True)
    response = set_password(stranger, path_of(link))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Your new password is set, and you are signed in" in stranger.get("/").get_data(as_text=True)
    assert is_signed_in(stranger)
    assert accounts.authenticate(user.email, PASSWORD) is None
    assert accounts.authenticate(user.email, NEW_PASSWORD).id == user.id


def test_a_link_works_once(app, make, db, client):
    user = make.user()
    ask_for_link(client, user.email)
    path = reset_link(user)
    assert set_password(client, path).status_code == 302

    again = app.test_client()
    used = again.get(path)
    assert used.status_code == 400 and "already used" in used.get_data(as_text=True)
    assert set_password(again, path, password="yet another passphrase").status_code == 400
    assert accounts.authenticate(user.email, NEW_PASSWORD) is not None


def test_an_earlier_link_dies_when_the_password_changes_any_other_way(app, make, db, client):
    user = make.user()
    ask_for_link(client, user.email)
    path = reset_link(user)
    accounts.change_password(user, PASSWORD, "changed by its owner meanwhile")
    db.session.commit()
    assert client.get(path).status_code == 400


def test_a_link_expires_after_password_reset_ttl(app, make, db, client, monkeypatch):
    user = make.user()
    ttl = app.config["PASSWORD_RESET_TTL"]
    assert ttl == 3600

    def mailed_ago(seconds):
        # The link is signed with a clock this far in the past.
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - seconds)
        ask_for_link(client, user.email)
        monkeypatch.undo()
        return reset_link(user)

    fresh_enough = mailed_ago(ttl - 60)
    too_old = mailed_ago(ttl + 60)
    expired = client.get(too_old)
    assert expired.status_code == 400 and "This link has expired" in expired.get_data(as_text=True)
    assert set_password(client, too_old).status_code == 400
    assert accounts.authenticate(user.email, PASSWORD) is not None
    assert client.get(fresh_enough).status_code == 200


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(app, make, db):
    make.user(email="known@example.com")
    known = ask_for_link(app.test_client(), "known@example.com")
    unknown = ask_for_link(app.test_client(), "unknown@example.com")
    assert known.status_code == unknown.status_code == 200
    assert main_text(known).replace("known@example.com", "X") == main_text(unknown).replace("unknown@example.com", "X")
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_address == "unknown@example.com")
        )
        == 0
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_address == "known@example.com")
        )
        == 1
    )


def test_text_that_is_no_address_is_refused_on_the_form(client, db):
    response = ask_for_link(client, "not an address")
    assert response.status_code == 422
    assert "That email address is not valid" in response.get_data(as_text=True)


def test_reset_mail_is_rate_limited_per_address(app, make, db):
    user = make.user()
    limit = int(app.config["RATELIMIT_PASSWORD_RESET"].split()[0])
    for n in range(limit):
        assert ask_for_link(app.test_client(), user.email.upper()).status_code == 200, n
    assert ask_for_link(app.test_client(), user.email).status_code == 429
    assert ask_for_link(app.test_client(), "someone.else@example.com").status_code == 200


def test_a_reset_signs_out_everywhere_and_revokes_every_api_token(app, make, db, client):
    user = make.user()
    laptop = browser_signed_in(app, user)
    thief = copy_of(app, laptop)
    api = Api(app.test_client())
    tokens = [api.token_for(user), api.token_for(user)]
    ask_for_link(client, user.email)
    assert set_password(client, reset_link(user)).status_code == 302

    assert not is_signed_in(laptop)
    assert not is_signed_in(thief)
    assert all(api.get("/me", token=token).status_code == 401 for token in tokens)
    assert is_signed_in(client)  # the browser that reset it: a new session


def test_a_weak_new_password_is_refused_and_the_link_still_works(app, make, db, client):
    user = make.user()
    ask_for_link(client, user.email)
    path = reset_link(user)
    response = set_password(client, path, password="1234567890")
    assert response.status_code == 422 and "too easy to guess" in response.get_data(as_text=True)
    mismatch = set_password(client, path, password=NEW_PASSWORD, confirm="something else entirely")
    assert mismatch.status_code == 422
    assert set_password(client, path).status_code == 302


def test_an_account_with_two_factor_signs_in_on_the_login_page_after_a_reset(app, make, db, client):
    admin = make.admin()  # administrators have two-factor sign-in
    ask_for_link(client, admin.email)
    response = set_password(client, reset_link(admin))
    assert response.status_code == 302 and response.headers["Location"] == "/account/login"
    assert not is_signed_in(client)
    assert accounts.authenticate(admin.email, NEW_PASSWORD) is not None


def test_the_reset_mail_is_in_the_language_of_the_page_that_asked(app, make, db, client):
    user = make.user()
    assert db.session.get(User, user.id).locale is None
    client.get("/language/zh")
    ask_for_link(client, user.email)
    mail = last_mail(user.email)
    assert mail["Subject"] == "重设您的 Crowdfund 密码"
    assert "该链接只能使用一次" in body_of(mail)
