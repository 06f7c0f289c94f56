"""What a person sees when the web refuses bad input (the sweep, test_bad_input_sweep.py, checks
that every form and route refuses it; these check the answers read well)."""

from crowdfund.models import Firm, Pledge
from tests.conftest import csrf_token
from tests.pledges.test_web import form_fields
from tests.support.builders import charges, live_reward_project


def back_with_amount(client, project, amount):
    data = form_fields(client, f"/p/{project.slug}/back")
    data.update(tier_id="", amount=amount, payment_method="pm_card_visa")
    return client.post(f"/p/{project.slug}/back", data=data)


def test_a_comma_is_never_read_as_nothing_in_an_amount(client, make, login, db):
    project = live_reward_project(make, db, currency="USD")
    login(make.user())
    for amount in ("12,50", "1e999999999", "１２", "1_000", "1,25,0"):
        response = back_with_amount(client, project, amount)
        assert response.status_code == 422, amount
        assert "Enter an amount as a number, like 1,250.50." in response.get_data(as_text=True), amount
    assert db.session.query(Pledge).count() == 0 and charges(db) == 0
    assert back_with_amount(client, project, "1,250.50").status_code == 302
    assert db.session.query(Pledge).one().amount == 125_050


def test_a_chinese_page_explains_the_amount_in_chinese(client, make, login, db):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    project = live_reward_project(make, db, currency="JPY")
    login(make.user())
    response = back_with_amount(client, project, "12,50")
    assert response.status_code == 422
    assert "请输入数字金额，例如 1,250。" in response.get_data(as_text=True)
    response = back_with_amount(client, project, "1250.5")
    assert "JPY 金额不能有小数。" in response.get_data(as_text=True)


def firm_form(client, **changes):
    data = {
        "legal_name": "Tea Ltd",
        "country": "GB",
        "registration_number": "12345678",
        "address": "1 High Street",
        "csrf_token": csrf_token(client, "/firms/new"),
    }
    return {**data, **changes}


def test_nul_and_control_characters_are_refused_on_the_form_itself(client, make, login, db):
    login(make.user())
    response = client.post("/firms/new", data=firm_form(client, legal_name="Tea\x00 Ltd"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Remove the NUL character (an invisible control character) from this field." in page
    assert 'value="Tea' in page  # the form again, with what was typed
    response = client.post("/firms/new", data=firm_form(client, legal_name="Tea\x1b Ltd"))
    assert response.status_code == 422
    assert "Remove the control characters (such as tabs or line breaks) from this line." in response.get_data(
        as_text=True
    )
    assert db.session.query(Firm).count() == 0
    # Several lines: their line breaks and tabs are fine.
    assert client.post("/firms/new", data=firm_form(client, address="1 High Street\r\n\tLondon")).status_code == 302
    assert db.session.query(Firm).one().address == "1 High Street\r\n\tLondon"


def test_ids_past_the_column_and_nul_in_the_address_bar(client, make, login):
    login(make.user())
    assert client.get("/projects/2147483648/edit").status_code == 404
    assert client.get("/pledges/9223372036854775808").status_code == 404
    response = client.get("/p/tea%00pot")
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    assert client.get("/?page=²").status_code == 200  # "²".isdigit(), yet int("²") raises
