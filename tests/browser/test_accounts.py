"""Password reset and email verification in a real browser, in English and in Chinese: the
mail the server delivered (instance/mail/*.eml) is read as its recipient would, and its link
opened in the browser. Screenshots go to tests/artifacts/accounts-*.png."""

import pytest

from tests.browser.conftest import shoot
from tests.support.mail_links import last_mail, link_in

pytestmark = pytest.mark.browser

OLD_PASSWORD = "an old browser password"
NEW_PASSWORD = "a new browser password"

WORDS = {
    "en": {
        "locale": "en-US",
        "forgot": "Forgot your password?",
        "sent": "Look in your mailbox",
        "reset_subject": "Reset your Crowdfund password",
        "signed_in": "you are signed in",
        "log_out": "Log out",
        "verify_subject": "Confirm your email address",
        "banner": "Please confirm your email address",
        "confirmed": "is confirmed as your email address",
    },
    "zh": {
        "locale": "zh-CN",
        "forgot": "忘记密码？",
        "sent": "请查看您的邮箱",
        "reset_subject": "重设您的 Crowdfund 密码",
        "signed_in": "您已登录",
        "log_out": "退出登录",
        "verify_subject": "确认您的电子邮箱地址",
        "banner": "请确认您的电子邮箱地址",
        "confirmed": "已确认为您的电子邮箱地址",
    },
}


def mail_to(live, email):
    with live.app.app_context():
        return last_mail(email, app=live.app)


def submit(page):
    page.locator("main form input[type=submit]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_forgotten_password_is_reset_from_the_mail_and_the_person_is_signed_in(live_server, new_page, language):
    from crowdfund.extensions import db
    from tests.support.factories import Factories

    words, email = WORDS[language], f"forgetful.{language}@example.com"
    with live_server.app.app_context():
        Factories(db).user(email=email, name=f"Forgetful {language}", password=OLD_PASSWORD)
        db.session.remove()
    base = live_server.url
    page = new_page(phone=language == "zh", locale=words["locale"])
    page.goto(f"{base}/account/login")
    page.get_by_role("link", name=words["forgot"]).click()
    page.locator("#email").fill(email)
    submit(page)
    assert page.get_by_role("heading", name=words["sent"]).is_visible()
    shoot(page, f"accounts-forgot-sent-{language}")

    mail = mail_to(live_server, email)
    assert mail["Subject"] == words["reset_subject"]
    page.goto(link_in(mail, "/account/reset/"))
    page.locator("#password").fill(NEW_PASSWORD)
    page.locator("#confirm").fill(NEW_PASSWORD)
    shoot(page, f"accounts-reset-{language}")
    submit(page)
    assert page.url == f"{base}/"
    assert page.get_by_text(words["signed_in"]).is_visible()
    assert page.get_by_role("button", name=words["log_out"], include_hidden=True).count() >= 1  # a phone: in the menu

    # The new password is the one that works from now on; the link does not work twice.
    other = new_page(locale=words["locale"])
    response = other.goto(link_in(mail, "/account/reset/"))
    assert response.status == 400
    other.goto(f"{base}/account/login")
    other.locator("#email").fill(email)
    other.locator("#password").fill(NEW_PASSWORD)
    submit(other)
    assert "/account/login" not in other.url


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_new_account_confirms_its_address_from_the_mail(live_server, new_page, language):
    words, email = WORDS[language], f"newcomer.{language}@example.com"
    base = live_server.url
    page = new_page(phone=language == "en", locale=words["locale"])
    page.goto(f"{base}/account/register")
    page.locator("#name").fill(f"Newcomer {language}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(OLD_PASSWORD)
    page.locator("#confirm").fill(OLD_PASSWORD)
    page.locator("#accept_terms").check()
    submit(page)
    assert page.url == f"{base}/"
    banner = page.locator(".email-unverified")
    assert banner.is_visible() and words["banner"] in banner.inner_text()
    shoot(page, f"accounts-unconfirmed-{language}")

    mail = mail_to(live_server, email)
    assert mail["Subject"] == words["verify_subject"]
    assert email not in link_in(mail, "/account/verify/")  # the link names no address in clear
    page.goto(link_in(mail, "/account/verify/"))
    assert page.get_by_text(words["confirmed"]).is_visible()
    assert page.locator(".email-unverified").count() == 0
    shoot(page, f"accounts-confirmed-{language}")
