"""Two-factor sign-in on the web: enrolment, the code after the password, recovery codes,
codes good once, turning it off, and a code asked again before payout details change."""

import re

import pyotp
import pytest
from sqlalchemy import select

from crowdfund.models import PayoutAccount, RecoveryCode, UserTwoFactor
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD, enrol_two_factor, otp_for

VERIFY = "/account/2fa/verify"
APP_NAMES = {"Google", "Microsoft", "Authenticator", "Password"}  # "Google Authenticator", "1Password"


def password_step(client, user, password=PASSWORD, next_url=""):
    return client.post(
        "/account/login",
        data={
            "email": user.email,
            "password": password,
            "next": next_url,
            "csrf_token": csrf_token(client, "/account/login"),
        },
    )


def code_step(client, code):
    return client.post(VERIFY, data={"code": code, "csrf_token": csrf_token(client, VERIFY)})


def signed_in(client):
    return client.get("/me/pledges").status_code == 200


def log_out(client):
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})


def secret_on_page(page):
    return re.search(r'data-testid="two-factor-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")


def test_enrolment_shows_a_qr_code_and_the_key_and_turns_on_with_a_code(client, make, login, db):
    user = login(make.user())
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "<svg" in page and "QR code for your authenticator app" in page
    secret = secret_on_page(page)
    assert secret_on_page(client.get("/account/2fa").get_data(as_text=True)) == secret  # a reload keeps it

    token = csrf_token(client, "/account/2fa")
    wrong = client.post("/account/2fa", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    assert db.session.get(UserTwoFactor, user.id).enabled_at is None

    done = client.post("/account/2fa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    shown = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", done.get_data(as_text=True))
    assert len(set(shown)) == 10
    assert db.session.get(UserTwoFactor, user.id).enabled_at is not None
    stored = db.session.scalars(select(RecoveryCode.code_digest).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10 and not set(shown) & set(stored)  # digests only
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "10 recovery codes are left" in page and 'data-testid="recovery-codes"' not in page


def test_sign_in_asks_for_the_code_after_a_right_password_and_only_then_signs_in(client, make, db):
    user = make.user(two_factor=True)
    first = password_step(client, user, next_url="/firms/")
    assert first.status_code == 302 and first.headers["Location"].endswith(VERIFY)
    assert not signed_in(client)
    wrong = code_step(client, "123456" if otp_for(user) != "123456" else "654321")
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    assert not signed_in(client)
    right = code_step(client, otp_for(user))
    assert right.status_code == 302 and right.headers["Location"].endswith("/firms/")
    assert signed_in(client)


def test_a_wrong_password_never_reaches_the_code_step(client, make):
    user = make.user(two_factor=True)
    response = password_step(client, user, password="not the password")
    assert response.status_code == 422 and "do not match an account" in response.get_data(as_text=True)
    assert client.get(VERIFY).headers["Location"].endswith("/account/login")


def test_a_code_is_good_once(client, make, db):
    user = make.user(two_factor=True)
    code = otp_for(user)
    password_step(client, user)
    assert code_step(client, code).status_code == 302
    log_out(client)
    password_step(client, user)
    replayed = code_step(client, code)
    assert replayed.status_code == 422 and "was used already" in replayed.get_data(as_text=True)
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(client, make, db):
    user = make.user()
    code = enrol_two_factor(user)[3]
    db.session.commit()
    password_step(client, user)
    response = code_step(client, code.upper())  # as read off paper: case does not matter
    assert response.status_code == 302
    assert "9 are left" in client.get("/").get_data(as_text=True)
    assert signed_in(client)
    log_out(client)
    password_step(client, user)
    again = code_step(client, code)
    assert again.status_code == 422 and not signed_in(client)


def test_the_half_signed_in_state_expires(client, make, app, monkeypatch):
    user = make.user(two_factor=True)
    monkeypatch.setitem(app.config, "TWO_FACTOR_PENDING_SECONDS", -1)
    password_step(client, user)
    response = client.get(VERIFY)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/login")
    assert "took too long" in client.get("/account/login").get_data(as_text=True)


def test_wrong_codes_are_limited_per_account(client, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_TWO_FACTOR", "3 per 15 minutes")
    user = make.user(two_factor=True)
    password_step(client, user)
    for _ in range(3):
        assert code_step(client, "999999" if otp_for(user) != "999999" else "111111").status_code == 422
    locked = code_step(client, otp_for(user))
    assert locked.status_code == 429 and "Too many wrong codes" in locked.get_data(as_text=True)
    assert not signed_in(client)


def test_turning_it_off_needs_the_password_and_a_code(client, make, login, db):
    user = login(make.user(two_factor=True))
    page = "/account/2fa/disable"
    wrong = client.post(
        page, data={"password": "not it at all", "code": otp_for(user), "csrf_token": csrf_token(client, page)}
    )
    assert wrong.status_code == 422 and "password is not right" in wrong.get_data(as_text=True)
    no_code = client.post(page, data={"password": PASSWORD, "code": "12", "csrf_token": csrf_token(client, page)})
    assert no_code.status_code == 422
    assert db.session.get(UserTwoFactor, user.id) is not None
    off = client.post(page, data={"password": PASSWORD, "code": otp_for(user), "csrf_token": csrf_token(client, page)})
    assert off.status_code == 302
    assert db.session.get(UserTwoFactor, user.id) is None
    assert db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all() == []
    log_out(client)
    assert password_step(client, user).headers["Location"].endswith("/")  # the password alone again


def test_new_recovery_codes_replace_the_old_ones(client, make, login, db):
    user = make.user()
    old = enrol_two_factor(user)
    db.session.commit()
    login(user)
    response = client.post(
        "/account/2fa", data={"code": otp_for(user), "csrf_token": csrf_token(client, "/account/2fa")}
    )
    new = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    log_out(client)
    password_step(client, user)
    assert code_step(client, old[0]).status_code == 422
    assert code_step(client, new[0]).status_code == 302


# --- payout details: a code again -------------------------------------------------------------


def set_up_payouts(client, firm_id, **extra):
    return client.post(
        f"/firms/{firm_id}/payout-account", data={"csrf_token": csrf_token(client, f"/firms/{firm_id}"), **extra}
    )


@pytest.fixture()
def manual(app, monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX_ACCOUNTS_VERIFY", "manual")


def test_changing_payout_details_asks_for_a_fresh_code(client, make, login, db, app, monkeypatch, manual):
    owner = make.user(two_factor=True)
    firm = make.firm(owner=owner, payout=None)
    login(owner)  # the code just entered at sign-in is fresh: no second question
    assert set_up_payouts(client, firm.id).status_code == 303

    monkeypatch.setitem(app.config, "TWO_FACTOR_FRESH_SECONDS", 0)  # ... and now it is not
    prompt = set_up_payouts(client, firm.id, replace="y")
    assert prompt.status_code == 200 and "Confirm it is you" in prompt.get_data(as_text=True)
    assert 'name="replace" value="y"' in prompt.get_data(as_text=True)
    assert db.session.query(PayoutAccount).count() == 1
    wrong_code = "000000" if otp_for(owner) != "000000" else "111111"
    wrong = set_up_payouts(client, firm.id, replace="y", two_factor_code=wrong_code)
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    assert db.session.query(PayoutAccount).count() == 1

    right = set_up_payouts(client, firm.id, replace="y", two_factor_code=otp_for(owner))
    assert right.status_code == 303 and "/sandbox/onboard/" in right.headers["Location"]
    assert db.session.query(PayoutAccount).count() == 2  # "use a different account" was carried through


def test_without_two_factor_payout_details_need_no_code(client, make, login, db, manual):
    owner = make.user()
    firm = make.firm(owner=owner, payout=None)
    login(owner)
    assert set_up_payouts(client, firm.id).status_code == 303


def test_the_two_factor_pages_speak_chinese(client, make, login, db, app, monkeypatch, manual):
    from tests.web.test_chinese import english_words

    def chinese_main(response, *must_contain):
        html = response.get_data(as_text=True)
        main = html[html.index("<main") : html.index("</main>")]
        english = set(english_words(main)) - APP_NAMES
        assert '<html lang="zh-Hans">' in html and not english, english
        for text in must_contain:
            assert text in main, text

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    user = login(make.user())
    enrol = client.get("/account/2fa")
    chinese_main(enrol, "设置两步验证", "二维码")
    secret = secret_on_page(enrol.get_data(as_text=True))
    token = csrf_token(client, "/account/2fa")
    chinese_main(client.post("/account/2fa", data={"code": "000000", "csrf_token": token}), "验证码不正确")
    chinese_main(
        client.post("/account/2fa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token}), "您的恢复码"
    )
    chinese_main(client.get("/account/2fa"), "还剩 10 个恢复码")
    chinese_main(client.get("/account/2fa/disable"), "关闭两步验证")
    firm = make.firm(owner=user, payout=None)
    monkeypatch.setitem(app.config, "TWO_FACTOR_FRESH_SECONDS", 0)
    chinese_main(set_up_payouts(client, firm.id), "确认是您本人")
    log_out(client)
    password_step(client, user)
    chinese_main(client.get(VERIFY), "输入验证码")
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_ACCOUNT", "1 per 15 minutes")
    password_step(client, user, password="a wrong guess!")
    chinese_main(password_step(client, user), "此账户登录失败次数过多")
