"""A firm's identity and payout account lock while money is at stake; an admin approves changes."""

import pytest
from sqlalchemy import select

from crowdfund.models import FirmChangeRequest, FirmEdit, OutboxMessage, PayoutAccount, StateChange
from crowdfund.services import campaigns, firm_changes
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD, pass_second_step
from tests.support.settlement import close, reward_campaign


def edit_form(client, firm, **changes):
    data = {
        "address": firm.address,
        "website": firm.website or "",
        "description": firm.description,
        "csrf_token": csrf_token(client, f"/firms/{firm.id}/edit"),
    }
    data.update(changes)
    return data


def log_in(app, user):
    """A browser of its own for `user` (the founder's stays logged in)."""
    other = app.test_client()
    response = other.post(
        "/account/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(other, "/account/login")},
    )
    assert response.status_code == 302
    if response.headers["Location"].endswith("/account/2fa/verify"):  # an admin: the code too
        pass_second_step(other, user)
    return other


def mail_to(db, prefix):
    return sorted(
        db.session.scalars(select(OutboxMessage.to_address).where(OutboxMessage.dedupe_key.like(prefix + "%"))).all()
    )


def test_an_unlocked_firm_is_edited_directly_and_every_change_is_logged(client, make, login, db):
    owner = make.user()
    firm = make.firm(owner=owner, legal_name="Old Name Ltd")
    make.project(firm=firm)  # a draft locks nothing
    login(owner)
    response = client.post(
        f"/firms/{firm.id}/edit",
        data=edit_form(
            client,
            firm,
            legal_name="New Name Ltd",
            country="GB",
            registration_number=firm.registration_number,
            address="2 Low Street",
        ),
    )
    assert response.status_code == 302
    db.session.refresh(firm)
    assert (firm.legal_name, firm.address) == ("New Name Ltd", "2 Low Street")
    edits = db.session.scalars(
        select(FirmEdit).where(FirmEdit.firm_id == firm.id, FirmEdit.field != "payout_account").order_by(FirmEdit.field)
    ).all()
    assert [(e.field, e.old_value, e.new_value, e.user_id) for e in edits] == [
        ("address", "1 High Street, London", "2 Low Street", owner.id),
        ("legal_name", "Old Name Ltd", "New Name Ltd", owner.id),
    ]


def test_locked_details_are_read_only_and_a_change_sent_anyway_waits_for_an_admin(client, make, login, db):
    owner = make.user()
    firm = make.firm(owner=owner, legal_name="Honest Tea Ltd")
    project = make.live_project(firm=firm)
    admin = db.session.get(type(owner), project.reviews[0].reviewer_id)
    login(owner)
    page = client.get(f"/firms/{firm.id}/edit").get_data(as_text=True)
    assert 'data-testid="locked-fields"' in page and 'name="legal_name"' not in page
    assert "Ask an administrator for a change" in page

    # The diversion attempt: the locked fields posted anyway, with a harmless-looking address change.
    response = client.post(
        f"/firms/{firm.id}/edit",
        data=edit_form(client, firm, legal_name="Diverted Holdings Ltd", address="9 Elsewhere Road"),
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert firm.legal_name == "Honest Tea Ltd" and firm.address == "9 Elsewhere Road"
    request = db.session.scalars(select(FirmChangeRequest)).one()
    assert (request.status, request.changes, request.previous) == (
        "pending",
        {"legal_name": "Diverted Holdings Ltd"},
        {"legal_name": "Honest Tea Ltd"},
    )
    audit = db.session.scalars(select(StateChange).where(StateChange.entity == "firm_change")).one()
    assert (audit.entity_id, audit.from_state, audit.to_state, audit.actor_id) == (
        request.id,
        None,
        "pending",
        owner.id,
    )
    assert mail_to(db, f"firm_change_requested:{request.id}:") == sorted([owner.email, admin.email])
    assert [e.field for e in db.session.scalars(select(FirmEdit).where(FirmEdit.field != "payout_account"))] == [
        "address"
    ]
    shown = client.get(f"/firms/{firm.id}").get_data(as_text=True)
    assert "Change waiting for approval" in shown and "Diverted Holdings Ltd" in shown


def test_the_lock_lasts_until_every_campaign_is_settled(make, db):
    firm = make.firm()
    assert not firm_changes.is_locked(firm.id)
    project, _held = reward_campaign(make, db, goal="50", backers=2)  # its own firm
    other = make.approved_project(firm=firm)
    assert firm_changes.is_locked(firm.id)  # approved, not yet live
    campaigns.cancel(make.founder_of(other), other, "Not this year.")  # never went live: nothing to settle
    db.session.commit()
    assert not firm_changes.is_locked(firm.id)
    assert firm_changes.is_locked(project.firm_id)
    close(db, project)
    assert project.status == "successful"
    assert not firm_changes.is_locked(project.firm_id)  # settled: paid out


def test_a_change_with_a_new_payout_account_needs_it_verified_then_an_admin(client, make, login, db, app, monkeypatch):
    owner, admin = make.user(), make.admin()
    firm = make.firm(owner=owner)
    make.live_project(firm=firm, reviewer=admin)
    old = firm.payout_account.processor_ref
    monkeypatch.setitem(app.config, "SANDBOX_ACCOUNTS_VERIFY", "manual")
    login(owner)
    response = client.post(
        f"/firms/{firm.id}/change-request",
        data={
            "legal_name": firm.legal_name,
            "country": firm.country,
            "registration_number": firm.registration_number,
            "new_payout_account": "y",
            "csrf_token": csrf_token(client, f"/firms/{firm.id}/change-request"),
        },
    )
    assert response.status_code == 303 and "/sandbox/onboard/" in response.headers["Location"]
    request = db.session.scalars(select(FirmChangeRequest)).one()
    proposed = request.payout_account
    assert (proposed.role, proposed.status) == ("proposed", "pending")
    assert request.changes == {"payout_account": proposed.processor_ref} and request.previous == {"payout_account": old}
    client.post(response.headers["Location"], data={"outcome": "restricted"})  # onboarding left unfinished

    admin_client = log_in(app, admin)
    decide = f"/admin/firm-changes/{request.id}"
    assert "Firm changes" in admin_client.get("/admin/firm-changes").get_data(as_text=True)
    refused = admin_client.post(decide, data={"decision": "approve", "csrf_token": csrf_token(admin_client, decide)})
    assert refused.status_code == 409
    assert "not verified by the payment processor yet" in refused.get_data(as_text=True)

    client.post(response.headers["Location"], data={"outcome": "verified"})  # the founder finishes onboarding
    approved = admin_client.post(
        decide,
        data={"decision": "approve", "reason": "Confirmed by phone.", "csrf_token": csrf_token(admin_client, decide)},
    )
    assert approved.status_code == 302
    db.session.expire_all()
    assert firm.payout_account.processor_ref == proposed.processor_ref
    assert {a.processor_ref: a.role for a in db.session.scalars(select(PayoutAccount))} == {
        old: "retired",
        proposed.processor_ref: "current",
    }
    assert (request.status, request.decided_by_id) == ("approved", admin.id)
    moved = db.session.scalars(select(FirmEdit).where(FirmEdit.change_request_id == request.id)).one()
    assert (moved.field, moved.old_value, moved.new_value, moved.user_id) == (
        "payout_account",
        old,
        proposed.processor_ref,
        admin.id,
    )
    assert mail_to(db, f"firm_change_decided:{request.id}:") == sorted([owner.email, admin.email])


def test_a_rejection_needs_a_reason_and_changes_nothing(client, make, login, db):
    owner, admin = make.user(), make.admin()
    firm = make.firm(owner=owner, legal_name="Steady Ltd")
    make.submitted_project(firm=firm)
    request = firm_changes.request_change(owner, firm, {"legal_name": "Shifty Ltd"})
    db.session.commit()
    login(admin)
    decide = f"/admin/firm-changes/{request.id}"
    assert client.post(decide, data={"decision": "reject", "csrf_token": csrf_token(client, decide)}).status_code == 422
    assert (
        client.post(
            decide,
            data={"decision": "reject", "reason": "Not the registry's name.", "csrf_token": csrf_token(client, decide)},
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert (request.status, firm.legal_name) == ("rejected", "Steady Ltd")


def test_an_admin_of_the_firm_cannot_decide_its_change(make, db):
    admin = make.admin()
    firm = make.firm(owner=admin)
    make.submitted_project(firm=firm)
    request = firm_changes.request_change(admin, firm, {"legal_name": "Mine Now Ltd"})
    db.session.commit()
    with pytest.raises(Exception) as refused:
        firm_changes.approve(admin, request.id)
    assert getattr(refused.value, "status", None) == 403
    db.session.rollback()
    assert db.session.get(FirmChangeRequest, request.id).status == "pending"


def test_only_one_change_waits_at_a_time(make, db):
    owner = make.user()
    firm = make.firm(owner=owner)
    make.submitted_project(firm=firm)
    firm_changes.request_change(owner, firm, {"legal_name": "First Ltd"})
    db.session.commit()
    with pytest.raises(Exception) as refused:
        firm_changes.request_change(owner, firm, {"legal_name": "Second Ltd"})
    assert getattr(refused.value, "code", None) == "change_request_pending"
