"""POST /api/v1/tokens for an account with two-factor sign-in: the code goes in `otp`."""

from tests.api.conftest import error_of
from tests.support.factories import PASSWORD, enrol_two_factor, otp_for


def ask(api, user, **extra):
    return api.post("/tokens", {"email": user.email, "password": PASSWORD, **extra})


def test_a_token_needs_the_code_when_the_account_has_two_factor(api, make, db):
    user = make.user(two_factor=True)
    missing = ask(api, user)
    assert missing.status_code == 401 and error_of(missing)["code"] == "otp_required"
    wrong = ask(api, user, otp="000000" if otp_for(user) != "000000" else "111111")
    assert wrong.status_code == 401 and error_of(wrong)["code"] == "invalid_otp"
    code = otp_for(user)
    right = ask(api, user, otp=code)
    assert right.status_code == 201
    assert api.get("/me", token=right.get_json()["token"]).get_json()["email"] == user.email
    replayed = ask(api, user, otp=code)
    assert replayed.status_code == 401 and error_of(replayed)["code"] == "invalid_otp"


def test_a_wrong_password_is_refused_before_any_code_is_asked_for(api, make):
    user = make.user(two_factor=True)
    response = api.post("/tokens", {"email": user.email, "password": "not the password"})
    assert response.status_code == 401 and error_of(response)["code"] == "invalid_credentials"


def test_a_recovery_code_gets_a_token_once(api, make, db):
    user = make.user()
    code = enrol_two_factor(user)[0]
    db.session.commit()
    assert ask(api, user, otp=code).status_code == 201
    again = ask(api, user, otp=code)
    assert again.status_code == 401 and error_of(again)["code"] == "invalid_otp"


def test_an_account_without_two_factor_needs_no_code(api, make):
    assert ask(api, make.user()).status_code == 201


def test_wrong_codes_are_limited_per_account(api, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_TWO_FACTOR", "2 per 15 minutes")
    user = make.user(two_factor=True)
    for _ in range(2):
        assert ask(api, user, otp="abcdef").status_code == 401
    locked = ask(api, user, otp=otp_for(user))
    assert locked.status_code == 429 and error_of(locked)["code"] == "rate_limited"
