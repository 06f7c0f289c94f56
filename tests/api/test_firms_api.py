"""/api/v1/firms/{id}: read, edit (some details lock), set up the payout account."""

from sqlalchemy import select

from crowdfund.models import FirmEdit, PayoutAccount, StateChange
from tests.api.conftest import error_of


def test_the_firm_shows_its_payout_account_to_its_people_and_admins_only(make, db, api):
    owner = make.user()
    firm = make.firm(owner=owner)
    body = api.get(f"/firms/{firm.id}", token=api.token_for(owner)).get_json()
    assert body["payout_account"] == {"status": "verified"} and body["locked"] is False
    assert body["name"] == firm.legal_name
    assert api.get(f"/firms/{firm.id}", token=api.token_for(make.admin())).status_code == 200
    stranger = api.get(f"/firms/{firm.id}", token=api.token_for(make.user()))
    assert stranger.status_code == 404 and error_of(stranger)["code"] == "not_found"


def test_set_up_payouts_answers_the_status_and_the_onboarding_page(make, db, api):
    owner = make.user()
    firm = make.firm(owner=owner, payout=None)
    token = api.token_for(owner)
    assert api.get(f"/firms/{firm.id}", token=token).get_json()["payout_account"] is None
    response = api.post(f"/firms/{firm.id}/payout-account", token=token)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"status", "onboarding_url"} and body["status"] == "verified"
    ref = db.session.scalars(select(PayoutAccount.processor_ref)).one()
    assert body["onboarding_url"].endswith(f"/sandbox/onboard/{ref}")
    again = api.post(f"/firms/{firm.id}/payout-account", token=token).get_json()
    assert again["status"] == "verified" and db.session.query(PayoutAccount).count() == 1
    admin = api.post(f"/firms/{firm.id}/payout-account", token=api.token_for(make.admin()))
    assert admin.status_code == 403  # an admin sees the firm but is not one of its people


def test_patch_edits_an_unlocked_firm_and_logs_each_field(make, db, api):
    owner = make.user()
    firm = make.firm(owner=owner)
    response = api.patch(
        f"/firms/{firm.id}",
        {"name": "Renamed Ltd", "website": None, "description": "Pots."},
        token=api.token_for(owner),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["website"], body["description"]) == ("Renamed Ltd", None, "Pots.")
    fields = db.session.scalars(
        select(FirmEdit.field).where(FirmEdit.firm_id == firm.id, FirmEdit.field != "payout_account")
    ).all()
    assert sorted(fields) == ["description", "legal_name", "website"]


def test_patch_refuses_locked_fields_and_records_the_attempt(make, db, api):
    owner = make.user()
    firm = make.firm(owner=owner, legal_name="Honest Pots Ltd")
    make.live_project(firm=firm)
    token = api.token_for(owner)

    response = api.patch(
        f"/firms/{firm.id}",
        {"name": "Diverted Ltd", "country": "FR", "registration_number": "123456789", "address": "Elsewhere"},
        token=token,
    )

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "firm_locked"
    assert set(error["fields"]) == {"name", "country", "registration_number"}
    db.session.expire_all()
    assert (firm.legal_name, firm.country, firm.address) == ("Honest Pots Ltd", "GB", "1 High Street, London")
    refusal = db.session.scalars(select(StateChange).where(StateChange.entity == "firm")).one()
    assert refusal.actor_id == owner.id and "legal_name" in refusal.note
    # Unchanged locked values are not a change; the other fields stay editable.
    same = api.patch(f"/firms/{firm.id}", {"name": "Honest Pots Ltd", "address": "2 Kiln Row"}, token=token)
    assert same.status_code == 200 and same.get_json()["locked"] is True
    assert same.get_json()["address"] == "2 Kiln Row"


def test_patch_is_for_the_firms_people(make, db, api):
    firm = make.firm()
    admin = api.patch(f"/firms/{firm.id}", {"address": "Admin Street"}, token=api.token_for(make.admin()))
    assert admin.status_code == 403
    invalid = api.patch(f"/firms/{firm.id}", {"website": "ftp://nope"}, token=api.token_for(firm.members[0].user))
    assert invalid.status_code == 422 and "website" in error_of(invalid)["fields"]
