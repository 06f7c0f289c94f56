from crowdfund.models import Firm
from crowdfund.services import firms
from tests.conftest import csrf_token
from tests.support.factories import VALID_USCC


def firm_form(client, **overrides):
    data = {
        "legal_name": "Lantern Tea Co.",
        "country": "CN",
        "registration_number": VALID_USCC[0],
        "address": "88 Longjing Road, Hangzhou",
        "website": "https://lantern.example",
        "description": "Tea.",
        "csrf_token": csrf_token(client, "/firms/new"),
    }
    data.update(overrides)
    return data


def test_founder_registers_a_chinese_firm(client, make, login, db):
    login(make.user())
    response = client.post("/firms/new", data=firm_form(client))
    assert response.status_code == 302
    firm = db.session.query(Firm).one()
    assert firm.registration_number == VALID_USCC[0]
    assert firm.payout_account is None  # set up with the processor next, never typed
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lantern Tea Co." in page and VALID_USCC[0] in page
    assert "Set up payouts" in page


def test_a_typed_payout_account_is_not_taken(client, make, login, db):
    login(make.user())
    response = client.post("/firms/new", data=firm_form(client, payout_account_ref="acct_1Attacker"))
    assert response.status_code == 302
    firm = db.session.query(Firm).one()
    assert firm.payout_account is None
    assert "payout_account_ref" not in client.get(f"/firms/{firm.id}/edit").get_data(as_text=True)


def test_a_wrong_uscc_check_character_is_refused(client, make, login, db):
    login(make.user())
    typo = VALID_USCC[0][:-1] + "4"
    response = client.post("/firms/new", data=firm_form(client, registration_number=typo))
    assert response.status_code == 422
    assert "check character" in response.get_data(as_text=True)
    assert "Lantern Tea Co." in response.get_data(as_text=True)  # what the person typed stays
    assert db.session.query(Firm).count() == 0


def test_other_countries_get_a_format_check(client, make, login, db):
    login(make.user())
    response = client.post("/firms/new", data=firm_form(client, country="GB", registration_number="12"))
    assert response.status_code == 422
    assert "expected 8 digits" in response.get_data(as_text=True)
    response = client.post("/firms/new", data=firm_form(client, country="GB", registration_number="SC123456"))
    assert response.status_code == 302


def test_the_same_registration_number_cannot_be_registered_twice(client, make, login, db):
    login(make.user())
    client.post("/firms/new", data=firm_form(client))
    response = client.post("/firms/new", data=firm_form(client, legal_name="Copycat"))
    assert response.status_code == 409  # the service's Conflict, not the form's 422
    page = response.get_data(as_text=True)
    assert "A firm with this registration number is already registered." in page
    assert 'value="Copycat"' in page  # the form again, with what was typed
    assert db.session.query(Firm).count() == 1
    other = client.post("/firms/new", data=firm_form(client, legal_name="Other Tea", registration_number=VALID_USCC[1]))
    assert other.status_code == 302
    edit = f"{other.headers['Location']}/edit"
    response = client.post(edit, data=firm_form(client, legal_name="Other Tea"))  # onto the first one's number
    assert response.status_code == 409
    assert "A firm with this registration number is already registered." in response.get_data(as_text=True)
    db.session.expire_all()
    assert sorted(f.registration_number for f in db.session.query(Firm)) == sorted(VALID_USCC)


def test_nobody_sees_or_edits_another_persons_firm(client, make, login, db):
    firm = make.firm()
    login(make.user())
    assert client.get(f"/firms/{firm.id}").status_code == 404
    response = client.post(f"/firms/{firm.id}/edit", data=firm_form(client, legal_name="Stolen"))
    assert response.status_code == 404
    db.session.refresh(firm)
    assert firm.legal_name != "Stolen"


def test_owner_edits_the_firm(client, make, login, db):
    owner = make.user()
    firm = make.firm(owner=owner)
    login(owner)
    response = client.post(
        f"/firms/{firm.id}/edit",
        data=firm_form(client, legal_name="Renamed Ltd", country="GB", registration_number=firm.registration_number),
    )
    assert response.status_code == 302
    db.session.refresh(firm)
    assert firm.legal_name == "Renamed Ltd"


def test_a_firm_edit_with_fields_missing_changes_nothing(client, make, login, db):
    owner = make.user()
    firm = make.firm(owner=owner)
    login(owner)
    before = (firm.legal_name, firm.country, firm.registration_number, firm.address)
    response = client.post(f"/firms/{firm.id}/edit", data={"csrf_token": csrf_token(client, f"/firms/{firm.id}/edit")})
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("This field is required.") == 4
    db.session.refresh(firm)
    assert (firm.legal_name, firm.country, firm.registration_number, firm.address) == before


def test_a_number_registered_by_someone_else_a_moment_before_is_a_409_not_an_error(
    client, make, login, db, monkeypatch
):
    # Two founders registering the same firm at once: the other one committed after our check.
    login(make.user())
    client.post("/firms/new", data=firm_form(client))
    monkeypatch.setattr(firms, "find_registered", lambda country, number: None)

    response = client.post("/firms/new", data=firm_form(client, legal_name="Copycat"))

    assert response.status_code == 409
    assert "A firm with this registration number is already registered." in response.get_data(as_text=True)
    assert db.session.query(Firm).count() == 1
