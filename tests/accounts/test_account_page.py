"""/account: a person sees and edits their name, language, time zone and email address."""

import re

import pytest
from sqlalchemy import select

from crowdfund.errors import PermissionDenied
from crowdfund.models import OutboxMessage, User
from crowdfund.workflows import checkout
from tests.accounts.helpers import verified
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD


def save_profile(client, **fields):
    data = {"name": "Ada Lovelace", "locale": "", "timezone": "", "csrf_token": csrf_token(client, "/account")}
    data.update(fields)
    return client.post("/account", data=data)


def change_email(client, email, password=PASSWORD):
    return client.post(
        "/account/email", data={"email": email, "password": password, "csrf_token": csrf_token(client, "/account")}
    )


def fresh(db, user):
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_the_page_needs_a_signed_in_person(client, db):
    response = client.get("/account")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_the_navigation_links_to_the_account_page(client, make, login):
    login(make.user(name="Ada"))
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'<a class="nav-account" href="/account"[^>]*>Account</a>', page)


def test_the_page_shows_the_account_and_links_to_its_other_pages(client, make, login, db):
    verified(db, login(make.user(name="Ada Byron", email="ada@example.com")))
    page = client.get("/account").get_data(as_text=True)
    assert 'value="Ada Byron"' in page and "ada@example.com" in page
    for link in ("/account/password", "/account/sessions", "/account/2fa", "/account/data.json", "/account/delete"):
        assert f'href="{link}"' in page, link
    assert "Confirmed" in page and "Not confirmed yet" not in page


def test_name_language_and_time_zone_are_saved_and_used(client, make, login, db):
    user = login(make.user(name="Ada Byron"))
    client.get("/language/en")  # the switch in the header, before choosing in the account
    response = save_profile(client, name="  Ada Lovelace ", locale="zh", timezone="Asia/Shanghai")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    user = fresh(db, user)
    assert (user.name, user.locale, user.timezone) == ("Ada Lovelace", "zh", "Asia/Shanghai")
    page = client.get("/account").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page and "您的账户已保存。" in page  # the choice beats the old switch
    assert '<option selected value="Asia/Shanghai">中国（上海）时间</option>' in page
    # Back to what the browser asks for.
    assert save_profile(client, name="Ada Lovelace", locale="", timezone="").status_code == 302
    user = fresh(db, user)
    assert (user.locale, user.timezone) == (None, None)
    assert '<html lang="en">' in client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": ""}, "This field is required."),
        ({"name": "Ada\x07Lovelace"}, "control characters"),
        ({"name": "A" * 121}, "Field cannot be longer than 120 characters."),
        ({"timezone": "Mars/Olympus_Mons"}, "Not a valid choice."),
        ({"locale": "fr"}, "Not a valid choice."),
    ],
)
def test_a_bad_profile_is_refused_with_a_message_and_nothing_saved(client, make, login, db, fields, message):
    user = login(make.user(name="Ada Byron"))
    response = save_profile(client, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fresh(db, user).name == "Ada Byron" and fresh(db, user).timezone is None


def test_an_email_change_needs_the_password_and_a_new_confirmation(client, make, login, db):
    user = verified(db, login(make.user(email="ada@example.com")))
    response = change_email(client, "ada@newmail.example", password="not my password")
    assert response.status_code == 422 and "Your current password is not right." in response.get_data(as_text=True)
    assert fresh(db, user).email == "ada@example.com" and fresh(db, user).email_verified_at is not None

    response = change_email(client, "Ada@NewMail.example")
    assert response.status_code == 302
    user = fresh(db, user)
    assert user.email == "ada@newmail.example" and user.email_verified_at is None
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == "ada@newmail.example")).all()
    assert len(mail) == 1 and "/account/verify/" in mail[0].body_text
    assert "Not confirmed yet" in client.get("/account").get_data(as_text=True)
    project = make.live_project()
    with pytest.raises(PermissionDenied) as refused:  # until the new address is confirmed
        checkout.place_pledge(
            user,
            project,
            idempotency_key="account-test-unverified",
            payment_method="pm_card_visa",
            tier_id=project.tiers[0].id,
        )
    assert refused.value.code == "email_unverified"


@pytest.mark.parametrize(
    "email, message",
    [
        ("taken@example.com", "An account with this email address already exists."),
        ("not an address", "That email address is not valid"),
        ("ada@example.com", "That is already your email address."),
    ],
)
def test_an_email_change_to_an_unusable_address_is_refused(client, make, login, db, email, message):
    make.user(email="taken@example.com")
    user = login(make.user(email="ada@example.com"))
    response = change_email(client, email)
    assert response.status_code in (409, 422)
    assert message in response.get_data(as_text=True)
    assert fresh(db, user).email == "ada@example.com"
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == email)) is None


def test_the_page_speaks_chinese(client, make, login, db):
    from tests.web.test_chinese import english_words

    verified(db, login(make.user(name="李娜", email="li.na@example.com")))
    for path in ("/account", "/account/delete"):
        html = client.get(path, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        assert '<html lang="zh-Hans">' in html
        # The places of a few time zones have no Chinese name in the CLDR ("Argentina/Salta").
        html = re.sub(r'<select[^>]* id="timezone".*?</select>', "", html, flags=re.S)
        left = [word for word in english_words(html) if word != "API"]  # written so in Chinese too
        assert left == [], (path, left)
