"""Two-factor sign-in in a real browser, in English and in Chinese: a person turns it on (the
key under the QR code typed into the "app", a code to confirm, the recovery codes shown once)
and signs in with a code; an administrator's first sign-in goes to enrolment first."""

import pytest

from tests.browser.authenticator import SUBMIT, AuthenticatorApp
from tests.browser.conftest import shoot
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser

TEXT = {
    "en": {
        "locale": "en-US",
        "setup": "Set up two-factor authentication",
        "codes": "Your recovery codes",
        "step": "Enter your code",
        "admin": "Administrators must use two-factor authentication",
        "on": "Two-factor authentication is on.",
    },
    "zh": {
        "locale": "zh-CN",
        "setup": "设置两步验证",
        "codes": "您的恢复码",
        "step": "输入验证码",
        "admin": "管理员必须使用两步验证",
        "on": "两步验证已开启。",
    },
}


def make_person(live, email, admin=False):
    from crowdfund.extensions import db
    from crowdfund.models import utcnow
    from crowdfund.services import accounts

    with live.app.app_context():
        user = (
            accounts.make_admin(email, PASSWORD, "Ada Admin")
            if admin
            else accounts.register(email, PASSWORD, "Lin Wei")
        )
        user.email_verified_at = utcnow()
        db.session.commit()


def password_step(page, base, email):
    page.goto(f"{base}/account/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator(SUBMIT).click()
    page.wait_for_load_state()


def log_out(page):
    page.locator("header .main-nav form.inline-form button").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_person_turns_on_two_factor_and_signs_in_with_a_code(live_server, new_page, language):
    base, text, app = live_server.url, TEXT[language], AuthenticatorApp()
    email = f"two-factor-{language}@example.com"
    make_person(live_server, email)
    page = new_page(locale=text["locale"])
    password_step(page, base, email)
    assert page.url == f"{base}/"  # no second step yet

    page.goto(f"{base}/account/2fa")
    assert page.get_by_role("heading", name=text["setup"]).is_visible()
    assert page.locator("figure svg").is_visible()  # the QR code, drawn by the server
    shoot(page, f"two-factor-enrol-{language}")
    codes = app.enrol(page, email)
    assert page.get_by_role("heading", name=text["codes"]).is_visible()
    assert page.get_by_text(text["on"]).is_visible()
    assert len(set(codes)) == 10

    log_out(page)
    password_step(page, base, email)
    assert page.url == f"{base}/account/2fa/verify"
    assert page.get_by_role("heading", name=text["step"]).is_visible()
    assert page.goto(f"{base}/me/pledges").url.startswith(f"{base}/account/login")  # not signed in yet
    password_step(page, base, email)
    app.answer(page, email)
    assert page.url == f"{base}/"
    assert page.goto(f"{base}/me/pledges").url == f"{base}/me/pledges"


@pytest.mark.parametrize("language", ["en", "zh"])
def test_an_admins_first_sign_in_goes_to_enrolment_first(live_server, new_page, language):
    base, text, app = live_server.url, TEXT[language], AuthenticatorApp()
    email = f"first-admin-{language}@example.com"
    make_person(live_server, email, admin=True)
    page = new_page(locale=text["locale"], phone=True)
    password_step(page, base, email)
    assert page.url == f"{base}/account/2fa"
    assert page.get_by_test_id("two-factor-required").inner_text().startswith(text["admin"])
    shoot(page, f"two-factor-admin-enrol-{language}-phone")
    page.goto(f"{base}/admin/reviews")
    assert page.url == f"{base}/account/2fa"  # nothing else first
    app.enrol(page, email)
    assert page.goto(f"{base}/admin/reviews").url == f"{base}/admin/reviews"
