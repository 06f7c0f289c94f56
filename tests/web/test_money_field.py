"""Amounts typed into the founder's forms: read in the page's language and the project's
currency into minor units, or refused on the form with a message, never a 500."""

import re

import pytest
from werkzeug.datastructures import MultiDict

from crowdfund.models import EquityOffering, Project, RewardTier
from crowdfund.web.forms import Form, MoneyField
from tests.conftest import csrf_token


class AmountForm(Form):
    amount = MoneyField("Amount")

    def __init__(self, currency, *args, **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)


def read(app, currency, typed, lang="en"):
    """(minor units, errors) of `typed` in a form of `currency` on a page in `lang`."""
    with app.test_request_context(f"/?lang={lang}", method="POST"):
        form = AmountForm(currency, formdata=MultiDict({"amount": typed}), meta={"csrf": False})
        form.validate()
        return form.amount.data, form.amount.errors


@pytest.mark.parametrize(
    "lang,currency,typed,minor",
    [
        ("en", "USD", "1,234.50", 123_450),
        ("en", "USD", " 1234.5 ", 123_450),
        ("en", "USD", "$12", 1_200),
        ("en", "USD", "12 USD", 1_200),
        ("zh", "CNY", "¥1,234", 123_400),
        ("zh", "CNY", "￥1,234.5", 123_450),  # the full-width sign of a Chinese keyboard
        ("zh", "CNY", "1234元", 123_400),
        ("en", "CNY", "CN¥ 1,234", 123_400),
        ("en", "JPY", "¥1,234", 1_234),  # no minor unit
        ("zh", "JPY", "1,234", 1_234),
        ("en", "EUR", "0.5€", 50),
    ],
)
def test_an_amount_is_read_into_minor_units(app, lang, currency, typed, minor):
    assert read(app, currency, typed, lang) == (minor, [])


@pytest.mark.parametrize(
    "currency,typed,message",
    [
        ("JPY", "1,234.5", "JPY amounts have no decimal places."),
        ("USD", "12.345", "USD amounts have at most 2 decimal places."),
        ("USD", "12,50", "Enter an amount as a number, like 1,250.50."),  # a comma is not a decimal point in English
        ("CNY", "€12", "Enter an amount as a number, like 1,250.50."),  # another currency's sign: another amount
        ("USD", "１２", "Enter an amount as a number, like 1,250.50."),  # full-width digits
        ("USD", "1e3", "Enter an amount as a number, like 1,250.50."),
        ("USD", "-5", "The amount cannot be negative."),
        ("USD", "2000000000", "That amount is too large."),
    ],
)
def test_what_is_not_an_amount_is_refused_with_a_message(app, currency, typed, message):
    assert read(app, currency, typed) == (None, [message])


def test_the_message_is_in_the_page_language(app):
    assert read(app, "CNY", "12,5", lang="zh") == (None, ["请输入数字金额，例如 1,250.50。"])


def test_nothing_typed_is_no_amount(app):
    assert read(app, "USD", "   ") == (None, [])


# --- through the founder's pages ---------------------------------------------------------


def new_project_form(client, firm, **overrides):
    data = {
        "firm_id": firm.id,
        "kind": "reward",
        "title": "Lantern Tea",
        "summary": "Tea from family gardens.",
        "category": "food",
        "currency": "CNY",
        "goal": "20000",
        "duration_days": "30",
        "description": "Hand-picked tea.",
        "risks": "Weather.",
        "use_of_funds": "Tins.",
        "csrf_token": csrf_token(client, "/projects/"),
    }
    data.update(overrides)
    return data


def test_the_goal_is_read_in_the_currency_chosen_on_the_same_form(client, make, login, db):
    owner = login(make.user())
    firm = make.firm(owner=owner)
    refused = client.post("/projects/new", data=new_project_form(client, firm, currency="JPY", goal="20,000.50"))
    assert refused.status_code == 422
    assert "JPY amounts have no decimal places." in refused.get_data(as_text=True)
    assert db.session.query(Project).count() == 0
    created = client.post("/projects/new?lang=zh", data=new_project_form(client, firm, goal="¥20,000.50"))
    assert created.status_code == 302
    assert db.session.query(Project).one().goal == 2_000_050


@pytest.mark.parametrize(
    "goal,message",
    [
        ("abc", "Enter an amount as a number, like 1,250.50."),
        ("1.2.3", "Enter an amount as a number, like 1,250.50."),
        ("12\x00", "Enter an amount as a number, like 1,250.50."),
        ("¥", "Enter an amount as a number, like 1,250.50."),
        ("9" * 5000, "That amount is too large."),
    ],
)
def test_a_goal_that_is_not_an_amount_comes_back_on_the_form(client, make, login, db, goal, message):
    owner = login(make.user())
    response = client.post("/projects/new", data=new_project_form(client, make.firm(owner=owner), goal=goal))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.query(Project).count() == 0


def test_a_tiers_amounts_are_shown_back_as_typed_amounts(client, make, login, db):
    owner = login(make.user())
    project = make.project(firm=make.firm(owner=owner), complete=False, currency="USD")
    tier = make.tier(project, price="25", shipping="domestic", shipping_fee="7.5")
    page = client.get(f"/projects/{project.id}/tiers/{tier.id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]* name="price"[^>]* value="25.00"', page)
    assert re.search(r'<input[^>]* name="shipping_fee"[^>]* value="7.50"', page)
    db.session.refresh(tier)
    assert (tier.price, tier.shipping_fee) == (2500, 750)


def test_the_equity_terms_take_amounts_in_the_projects_currency(client, make, login, db):
    owner = login(make.user())
    project = make.project(firm=make.firm(owner=owner), kind="equity", complete=False, currency="JPY", goal="5000")
    data = {
        "security_type": "ordinary_shares",
        "price_per_share": "¥2",
        "shares_offered": "5000",
        "min_shares": "10",
        "pre_money_valuation": "200,000",
        "shares_outstanding": "100000",
        "csrf_token": csrf_token(client, "/projects/"),
    }
    refused = client.post(f"/projects/{project.id}/equity", data={**data, "price_per_share": "2.5"})
    assert refused.status_code == 422 and "JPY amounts have no decimal places." in refused.get_data(as_text=True)
    assert db.session.query(EquityOffering).count() == 0
    assert client.post(f"/projects/{project.id}/equity", data=data).status_code == 302
    offering = db.session.query(EquityOffering).one()
    assert (offering.price_per_share, offering.pre_money_valuation) == (2, 200_000)


def test_a_tier_price_of_zero_is_refused_by_the_rules_not_the_reading(client, make, login, db):
    owner = login(make.user())
    project = make.project(firm=make.firm(owner=owner), complete=False)
    response = client.post(
        f"/projects/{project.id}/tiers/new",
        data={
            "title": "A tin",
            "price": "0",
            "estimated_delivery": "2099-05",
            "shipping": "none",
            "csrf_token": csrf_token(client, "/projects/"),
        },
    )
    assert response.status_code == 422
    assert "Enter an amount greater than zero." in response.get_data(as_text=True)
    assert db.session.query(RewardTier).count() == 0
