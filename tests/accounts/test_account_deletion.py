"""Delete my account: the personal data goes, the money records stay; refused while money of
the person's is in escrow or they alone answer for a live campaign."""

import pytest
from sqlalchemy import func, select

from crowdfund.models import (
    ApiToken,
    FirmMember,
    InvestorProfile,
    OutboxMessage,
    Pledge,
    ShareHolding,
    User,
    UserSession,
)
from crowdfund.workflows import cancel
from tests.accounts.helpers import ADDRESS, pledge, shipping_campaign, standing_changes
from tests.api.conftest import Api, error_of
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD
from tests.support.settlement import close, equity_campaign


def delete(client, password=PASSWORD, confirm=True):
    data = {"password": password, "csrf_token": csrf_token(client, "/account/delete")}
    if confirm:
        data["confirm"] = "y"
    return client.post("/account/delete", data=data)


def fresh(db, user):
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_refused_while_a_pledge_is_held_in_escrow(client, make, login, db):
    backer = make.user(name="Ada Lovelace")
    pledge(db, backer, make.live_project())
    login(backer)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "Your account cannot be deleted yet" in page and "held in escrow" in page
    assert 'type="password"' not in page  # no form to fill in for nothing
    response = delete(client)  # sent anyway
    assert response.status_code == 409
    user = fresh(db, backer)
    assert user.name == "Ada Lovelace" and user.deleted_at is None
    assert standing_changes(db, backer) == []


def test_refused_while_the_only_founder_of_a_live_campaign(client, make, login, db):
    project = make.live_project(title="Brass desk lamp")
    founder = make.founder_of(project)
    login(founder)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "You are the only founder of Brass desk lamp, which is live." in page
    # With a second founder in the firm, the campaign still has someone to answer its backers.
    partner = make.user(name="Pat Partner")
    db.session.add(FirmMember(firm_id=project.firm_id, user_id=partner.id, role="owner"))
    db.session.commit()
    assert delete(client).status_code == 302
    assert fresh(db, founder).deleted_at is not None
    members = db.session.scalars(select(FirmMember.user_id).where(FirmMember.firm_id == project.firm_id)).all()
    assert members == [partner.id]


@pytest.mark.parametrize(
    "password, confirm, message",
    [
        ("not my password", True, "Your password is not right."),
        (PASSWORD, False, "Tick the box to confirm that you want to delete your account."),
    ],
)
def test_needs_the_password_and_the_confirmation(client, make, login, db, password, confirm, message):
    user = login(make.user(name="Ada Lovelace"))
    response = delete(client, password=password, confirm=confirm)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert fresh(db, user).deleted_at is None and fresh(db, user).name == "Ada Lovelace"


def test_deletion_anonymises_the_person_and_keeps_the_money_records(app, client, make, login, db):
    # An investor whose shares were issued, and whose cancelled reward pledge had an address.
    project, held = equity_campaign(make, db, goal="100", investors=2, shares=12)
    close(db, project)
    person = held[0].backer
    person_id, old_email = person.id, person.email
    reward = pledge(db, person, shipping_campaign(make, db), shipping_address=ADDRESS)
    cancel.cancel_pledge(person, reward.id)
    db.session.commit()
    token = Api(client).token_for(person)
    login(person)
    assert delete(client).status_code == 302

    user = fresh(db, person)
    assert user.name == "Deleted user" and user.email == f"deleted-{person_id}@invalid"
    assert user.deleted_at is not None and not user.is_active and user.locale is None
    # The money records stay, as they were, without the address.
    statuses = dict(db.session.execute(select(Pledge.id, Pledge.status).where(Pledge.backer_id == person_id)).all())
    assert statuses == {held[0].id: "released", reward.id: "cancelled"}
    assert db.session.get(Pledge, reward.id).shipping_address is None
    assert db.session.get(Pledge, held[0].id).amount == 12_000
    assert db.session.scalar(select(ShareHolding.shares).where(ShareHolding.user_id == person_id)) == 12
    profile = db.session.scalar(select(InvestorProfile).where(InvestorProfile.user_id == person_id))
    assert (profile.annual_income, profile.net_worth, profile.other_investments_12m) == (0, 0, 0)
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0 and result.output.startswith("Ledger OK"), result.output
    # Nothing reaches or signs in as the person any more.
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ApiToken)
            .where(ApiToken.user_id == person_id, ApiToken.revoked_at.is_(None))
        )
        == 0
    )
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == person_id, UserSession.ended_at.is_(None))
        )
        == 0
    )
    assert error_of(Api(client).get("/me", token=token))["code"] == "invalid_token"
    assert client.get("/account").status_code == 302  # this browser is signed out
    response = client.post(
        "/account/login",
        data={"email": old_email, "password": PASSWORD, "csrf_token": csrf_token(client, "/account/login")},
    )
    assert response.status_code == 422
    assert "That email and password do not match an account." in response.get_data(as_text=True)
    # The mail they were sent keeps no address or text of theirs.
    assert (
        db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_address == old_email))
        == 0
    )
    wiped = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == user.email)).all()
    assert wiped and all(m.body_text == "" for m in wiped)
    assert standing_changes(db, person) == [("active", "deleted", person_id, "")]
    # The register shows the shares, without the name.
    db.session.expire_all()
    founder = make.founder_of(project)
    client.post(
        "/account/login",
        data={"email": founder.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/account/login")},
    )
    register = client.get(f"/projects/{project.id}/register.csv").get_data(as_text=True)
    assert f"Deleted user,deleted-{person_id}@invalid,12," in register and old_email not in register


def test_the_address_can_be_used_for_a_new_account_afterwards(client, make, login, db):
    user = login(make.user(email="ada@example.com"))
    assert delete(client).status_code == 302
    again = make.user(email="ada@example.com")
    assert again.id != user.id and fresh(db, user).email == f"deleted-{user.id}@invalid"
