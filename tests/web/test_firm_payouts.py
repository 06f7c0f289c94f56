"""A founder sets up the firm's payout account on the web, through the processor's onboarding."""

import pytest
from sqlalchemy import select

from crowdfund.models import FirmEdit, PayoutAccount, StateChange
from tests.conftest import csrf_token


@pytest.fixture()
def manual(app, monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX_ACCOUNTS_VERIFY", "manual")


def set_up_payouts(client, firm_id, **extra):
    return client.post(
        f"/firms/{firm_id}/payout-account", data={"csrf_token": csrf_token(client, f"/firms/{firm_id}"), **extra}
    )


def test_set_up_payouts_onboard_and_come_back_verified(client, make, login, db, manual):
    owner = make.user()
    firm = make.firm(owner=owner, payout=None)
    login(owner)
    assert "Set up payouts" in client.get(f"/firms/{firm.id}").get_data(as_text=True)

    response = set_up_payouts(client, firm.id)

    assert response.status_code == 303
    onboarding = response.headers["Location"]
    assert "/sandbox/onboard/acct_sbx_" in onboarding
    account = db.session.scalars(select(PayoutAccount)).one()
    assert (account.status, account.role, account.firm_id) == ("pending", "current", firm.id)
    assert "Continue setup" in client.get(f"/firms/{firm.id}").get_data(as_text=True)
    again = set_up_payouts(client, firm.id)  # "Continue setup": a new link, the same account
    assert again.status_code == 303 and again.headers["Location"] == onboarding
    assert db.session.query(PayoutAccount).count() == 1

    back = client.post(onboarding, data={"outcome": "verified"})
    assert back.status_code == 303
    page = client.get(back.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "The payout account is verified" in page
    db.session.refresh(account)
    assert account.status == "verified" and account.verified_at is not None
    edits = db.session.scalars(select(FirmEdit).where(FirmEdit.firm_id == firm.id)).all()
    assert [(e.field, e.old_value, e.new_value, e.user_id) for e in edits] == [
        ("payout_account", "", account.processor_ref, owner.id)
    ]


def test_the_return_page_asks_the_processor_and_says_what_is_missing(client, make, login, db, manual, sandbox):
    owner = make.user()
    firm = make.firm(owner=owner, payout="pending")
    login(owner)
    ref = firm.payout_account.processor_ref
    sandbox.finish_onboarding(ref, "restricted")  # its webhook is not delivered: the return page asks anyway
    page = client.get(f"/firms/{firm.id}/payout-account/return", follow_redirects=True).get_data(as_text=True)
    assert "needs more information" in page
    db.session.expire_all()
    assert firm.payout_account.status == "restricted"


def test_an_expired_link_gets_a_fresh_one(client, make, login, db, manual):
    owner = make.user()
    firm = make.firm(owner=owner, payout="pending")
    login(owner)
    response = client.get(f"/firms/{firm.id}/payout-account/refresh")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/sandbox/onboard/{firm.payout_account.processor_ref}")


def test_nobody_else_sets_up_or_refreshes_a_firms_payouts(client, make, login, db):
    firm = make.firm(payout=None)
    login(make.user())
    token = csrf_token(client, "/firms/")
    assert client.post(f"/firms/{firm.id}/payout-account", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/firms/{firm.id}/payout-account/return").status_code == 404
    assert db.session.query(PayoutAccount).count() == 0


def test_an_unlocked_firm_may_use_a_different_account(client, make, login, db):
    owner = make.user()
    firm = make.firm(owner=owner)
    old = firm.payout_account.processor_ref
    login(owner)
    response = set_up_payouts(client, firm.id, replace="y")
    assert response.status_code == 303
    db.session.expire_all()
    accounts = {a.processor_ref: a.role for a in db.session.scalars(select(PayoutAccount))}
    new = firm.payout_account.processor_ref
    assert new != old and accounts == {old: "retired", new: "current"}


def test_a_locked_firm_cannot_swap_its_account_without_an_admin(client, make, login, db):
    owner = make.user()
    firm = make.firm(owner=owner)
    make.submitted_project(firm=firm)  # in review: the firm is locked
    old = firm.payout_account.processor_ref
    login(owner)
    page = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert "Use a different account" not in page and "Ask for a change" in page

    response = set_up_payouts(client, firm.id, replace="y")  # sent anyway

    assert response.status_code == 302
    assert "cannot be changed while a campaign" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert firm.payout_account.processor_ref == old
    assert db.session.query(PayoutAccount).count() == 1
    refusal = db.session.scalars(select(StateChange).where(StateChange.entity == "firm")).one()
    assert (refusal.entity_id, refusal.to_state, refusal.actor_id) == (firm.id, "change_refused", owner.id)
    assert "payout_account" in refusal.note


def test_the_launch_page_says_the_account_is_not_ready(client, make, login, db, manual):
    owner = make.user()
    firm = make.firm(owner=owner, payout="pending")
    project = make.approved_project(firm=firm)
    login(owner)
    page = client.get(f"/projects/{project.id}/launch").get_data(as_text=True)
    assert "payout account is being set up" in page and "Set up payouts on the firm" in page
    token = csrf_token(client, f"/projects/{project.id}/launch")
    refused = client.post(f"/projects/{project.id}/launch", data={"csrf_token": token, "deadline": "2099-01-01T12:00"})
    assert refused.status_code == 409
    assert "A campaign can launch once the payment processor has verified it" in refused.get_data(as_text=True)
    db.session.refresh(project)
    assert project.status == "approved"
