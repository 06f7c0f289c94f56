"""An admin suspends an account: no sign-in, no API, no new pledges; with a reason and an
audit row; and lifts it again."""

import json

import pytest
from sqlalchemy import func, select

from crowdfund.errors import PermissionDenied
from crowdfund.models import Pledge, User, UserSession
from tests.accounts.helpers import pledge, standing_changes, verified
from tests.api.conftest import Api, error_of
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD

REASON = "Card testing: 40 declined pledges in an hour."


def suspend(client, user, reason=REASON):
    path = f"/admin/users/{user.id}/suspend"
    return client.post(path, data={"reason": reason, "csrf_token": csrf_token(client, path)})


def lift(client, user, note="Spoke to them; a stolen card, now reported."):
    return client.post(
        f"/admin/users/{user.id}/unsuspend",
        data={"note": note, "csrf_token": csrf_token(client, f"/admin/users/{user.id}/suspend")},
    )


def sign_in(client, user):
    return client.post(
        "/account/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/account/login")},
    )


def fresh(db, user):
    db.session.expire_all()
    return db.session.get(User, user.id)


@pytest.fixture()
def admin(make, db):
    return make.admin(email="ada.admin@example.com")


def test_an_admin_suspends_with_a_reason_and_an_audit_row(client, make, login, db, admin):
    person = make.user(name="Sam Spammer", email="sam@example.com")
    login(admin)
    listing = client.get("/admin/users?q=sam").get_data(as_text=True)
    assert f'href="/admin/users/{person.id}/suspend"' in listing
    response = suspend(client, person, reason="   ")
    assert response.status_code == 422 and "This field is required." in response.get_data(as_text=True)
    assert fresh(db, person).suspended_at is None

    response = suspend(client, person)
    assert response.status_code == 302
    person = fresh(db, person)
    assert person.suspended_at is not None and person.suspension_reason == REASON and not person.is_active
    assert standing_changes(db, person) == [("active", "suspended", admin.id, REASON)]
    listing = client.get("/admin/users?q=sam").get_data(as_text=True)
    assert "Suspended" in listing and "Sam Spammer&#39;s account is suspended." in listing
    assert suspend(client, person).status_code == 409  # once is enough


def test_a_suspended_person_cannot_sign_in_and_is_told_why(client, make, login, db, admin):
    person = make.user(email="sam@example.com")
    signed_in = client.application.test_client()
    assert sign_in(signed_in, person).status_code == 302
    login(admin)
    suspend(client, person)

    assert signed_in.get("/account").status_code == 302  # the session they had ends
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == person.id, UserSession.ended_at.is_(None))
        )
        == 0
    )  # and stays ended after a lift
    response = sign_in(signed_in, person)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "This account is suspended, so it cannot sign in." in page
    assert "do not match" not in page
    # A wrong password still says only that: the suspension is told to the account's owner alone.
    response = signed_in.post(
        "/account/login",
        data={
            "email": person.email,
            "password": "wrong password!",
            "csrf_token": csrf_token(signed_in, "/account/login"),
        },
    )
    assert "do not match" in response.get_data(as_text=True) and "suspended" not in response.get_data(as_text=True)


def test_a_suspended_persons_tokens_are_refused(client, make, login, db, admin):
    person = make.user(email="sam@example.com")
    api = Api(client)
    token = api.token_for(person)
    assert api.get("/me", token=token).status_code == 200
    login(admin)
    suspend(client, person)
    response = api.get("/me", token=token)
    assert response.status_code == 403 and error_of(response)["code"] == "account_suspended"
    project = make.live_project()
    response = api.post(
        f"/projects/{project.id}/pledges",
        {"tier_id": project.tiers[0].id, "quantity": 1, "payment_method": "pm_card_visa"},
        token=token,
        headers={"Idempotency-Key": "suspended-attempt-1"},
    )
    assert response.status_code == 403 and error_of(response)["code"] == "account_suspended"
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0
    # nor is a new token given out: the password is right, so the answer says why
    asked = api.post("/tokens", {"email": person.email, "password": PASSWORD})
    assert asked.status_code == 403 and error_of(asked)["code"] == "account_suspended"
    assert "suspended" in error_of(asked)["message"]


def test_a_suspended_person_cannot_pledge(make, db, admin):
    from crowdfund.services import suspensions

    person = verified(db, make.user())
    project = make.live_project()
    first = pledge(db, person, project)
    suspensions.suspend(admin, person, REASON)
    db.session.commit()
    with pytest.raises(PermissionDenied) as refused:
        pledge(db, person, project)
    assert refused.value.code == "account_suspended"
    # What they pledged before stays held; it is settled as usual.
    assert db.session.scalars(select(Pledge.status).where(Pledge.backer_id == person.id)).all() == ["held"]
    assert first.status == "held"


def test_lifting_the_suspension_lets_the_person_back_in(client, make, login, db, admin):
    person = make.user(email="sam@example.com")
    login(admin)
    suspend(client, person)
    page = client.get(f"/admin/users/{person.id}/suspend").get_data(as_text=True)
    assert REASON in page and "Lift the suspension" in page
    assert lift(client, person).status_code == 302
    person = fresh(db, person)
    assert person.suspended_at is None and person.suspension_reason is None and person.is_active
    assert [row[:3] for row in standing_changes(db, person)] == [
        ("active", "suspended", admin.id),
        ("suspended", "active", admin.id),
    ]
    own = client.application.test_client()
    assert sign_in(own, person).status_code == 302
    # Their data tells them what happened and why, by "staff": the admin is not named.
    text = own.get("/account/data.json").get_data(as_text=True)
    assert [(row["to"], row["by"], row["note"]) for row in json.loads(text)["audit"]] == [
        ("suspended", "staff", REASON),
        ("active", "staff", "Spoke to them; a stolen card, now reported."),
    ]
    assert admin.email not in text


def test_only_admins_suspend_and_never_themselves(client, make, login, db, admin):
    person, other = make.user(), make.user()
    login(other)
    assert suspend(client, person).status_code == 403
    assert fresh(db, person).suspended_at is None
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/account")})
    login(admin)
    response = suspend(client, admin)
    assert response.status_code == 403 and "You cannot suspend your own account." in response.get_data(as_text=True)
    assert fresh(db, admin).suspended_at is None
