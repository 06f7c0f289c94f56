"""The backing form, receipts, my pledges and the investor profile, as a person uses them."""

import re

from crowdfund import ledger
from crowdfund.domain.money import format_money
from crowdfund.models import InvestorProfile, Pledge
from tests.conftest import csrf_token
from tests.support.builders import charges, investor, live_equity_project, live_reward_project, refunds


def form_fields(client, path):
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    attempt = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    return {"csrf_token": token, "idempotency_key": attempt}


def shipping(**overrides):
    data = {
        "shipping_name": "Li Wei",
        "shipping_line1": "1 Bund Road",
        "shipping_city": "Shanghai",
        "shipping_postal_code": "200000",
        "shipping_country": "CN",
    }
    data.update(overrides)
    return data


def test_backing_needs_an_account(client, make, db):
    project = live_reward_project(make, db)
    response = client.get(f"/p/{project.slug}/back")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_the_form_shows_tiers_test_cards_and_a_new_attempt_key_each_time(client, make, login, db):
    project = live_reward_project(
        make,
        db,
        tiers=[
            {"title": "Tea tin", "price": 9_900, "quantity": 10, "shipping": "worldwide", "shipping_fee": 800},
            {"title": "Gone", "price": 100, "quantity": 1, "sold": 1},
        ],
    )
    login(make.user())
    page = client.get(f"/p/{project.slug}/back").get_data(as_text=True)
    assert "Tea tin" in page and format_money(9_900, "CNY") in page and "10 left" in page
    assert "Sold out" in page
    assert "Visa •••• 4242 (succeeds)" in page
    assert "Shipping address" in page
    first = form_fields(client, f"/p/{project.slug}/back")["idempotency_key"]
    second = form_fields(client, f"/p/{project.slug}/back")["idempotency_key"]
    assert first != second and len(first) >= 16


def test_a_backer_pledges_and_sees_the_receipt(client, make, login, db):
    project = live_reward_project(
        make,
        db,
        tiers=[{"title": "Tea tin", "price": 9_900, "quantity": 10, "shipping": "worldwide", "shipping_fee": 800}],
    )
    backer = login(make.user())
    data = form_fields(client, f"/p/{project.slug}/back")
    data.update(
        tier_id=str(project.tiers[0].id), quantity="2", extra="5.50", payment_method="pm_card_visa", **shipping()
    )
    response = client.post(f"/p/{project.slug}/back", data=data)
    assert response.status_code == 302
    pledge = db.session.query(Pledge).one()
    assert response.headers["Location"].endswith(f"/pledges/{pledge.id}")
    assert pledge.status == "held" and pledge.backer_id == backer.id
    assert pledge.amount == 2 * 9_900 + 550 + 800
    page = client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert format_money(pledge.amount, "CNY") in page
    assert "2 × Tea tin" in page
    assert "Held in escrow until the campaign ends" in page
    assert "You can cancel this pledge until the campaign ends" in page
    assert "Shanghai" in page
    listing = client.get("/me/pledges").get_data(as_text=True)
    assert project.title in listing and "In escrow" in listing and "Cancel and refund" in listing
    assert ledger.verify() == []


def test_sending_the_same_form_twice_is_one_pledge(client, make, login, db):
    project = live_reward_project(make, db)
    login(make.user())
    data = form_fields(client, f"/p/{project.slug}/back")
    data.update(tier_id="", amount="30", payment_method="pm_card_visa")
    first = client.post(f"/p/{project.slug}/back", data=data)
    second = client.post(f"/p/{project.slug}/back", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.query(Pledge).count() == 1 and charges(db) == 1


def test_a_declined_card_keeps_what_was_typed(client, make, login, db):
    project = live_reward_project(
        make,
        db,
        tiers=[{"title": "Tea tin", "price": 9_900, "quantity": 1, "shipping": "worldwide", "shipping_fee": 800}],
    )
    login(make.user())
    data = form_fields(client, f"/p/{project.slug}/back")
    data.update(
        tier_id=str(project.tiers[0].id),
        quantity="1",
        extra="12",
        payment_method="pm_card_chargeDeclined",
        **shipping(shipping_name="Wang Fang"),
    )
    response = client.post(f"/p/{project.slug}/back", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 402
    assert "Your card was declined." in page
    assert 'value="Wang Fang"' in page and 'value="12"' in page
    assert re.search(rf'value="{project.tiers[0].id}"\s+checked', page)
    assert data["idempotency_key"] not in page  # the next try is a new attempt
    assert db.session.query(Pledge).one().status == "failed"
    assert db.session.get(type(project.tiers[0]), project.tiers[0].id).sold == 0
    assert ledger.verify() == []
    retry = form_fields(client, f"/p/{project.slug}/back")
    data.update(idempotency_key=retry["idempotency_key"], csrf_token=retry["csrf_token"], payment_method="pm_card_visa")
    assert client.post(f"/p/{project.slug}/back", data=data).status_code == 302


def test_bad_amounts_are_explained(client, make, login, db):
    project = live_reward_project(make, db)
    login(make.user())
    for amount, words in (
        ("-5", "cannot be negative"),
        ("abc", "Enter an amount as a number"),
        ("0", "Enter an amount above zero"),
        ("10.005", "at most 2 decimal places"),
        ("99999999999", "too large"),
    ):
        data = form_fields(client, f"/p/{project.slug}/back")
        data.update(tier_id="", amount=amount, payment_method="pm_card_visa")
        response = client.post(f"/p/{project.slug}/back", data=data)
        assert response.status_code == 422, amount
        assert words in response.get_data(as_text=True), amount
    assert db.session.query(Pledge).count() == 0 and charges(db) == 0


def test_sold_out_is_said_plainly(client, make, login, db):
    project = live_reward_project(make, db, tiers=[{"title": "Last one", "price": 1_000, "quantity": 1}])
    login(make.user())
    data = form_fields(client, f"/p/{project.slug}/back")
    data.update(tier_id=str(project.tiers[0].id), quantity="2", payment_method="pm_card_visa")
    response = client.post(f"/p/{project.slug}/back", data=data)
    assert response.status_code == 409
    assert "Only 1 of this reward is left." in response.get_data(as_text=True)
    assert charges(db) == 0


def test_projects_that_are_not_public_or_not_open(client, make, login, db):
    login(make.user())
    draft = live_reward_project(make, db, status="draft")
    assert client.get(f"/p/{draft.slug}/back").status_code == 404
    assert client.get("/p/no-such-campaign/back").status_code == 404
    closed = live_reward_project(make, db, status="successful")
    response = client.get(f"/p/{closed.slug}/back")
    assert response.status_code == 200
    assert "not taking pledges any more" in response.get_data(as_text=True)
    assert 'name="idempotency_key"' not in response.get_data(as_text=True)


def test_receipts_are_private(client, make, login, db):
    project = live_reward_project(make, db)
    owner = make.user()
    login(owner)
    data = form_fields(client, f"/p/{project.slug}/back")
    data.update(tier_id="", amount="30", payment_method="pm_card_visa")
    client.post(f"/p/{project.slug}/back", data=data)
    pledge = db.session.query(Pledge).one()
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    login(make.user())
    assert client.get(f"/pledges/{pledge.id}").status_code == 404
    response = client.post(f"/pledges/{pledge.id}/cancel", data={"csrf_token": csrf_token(client, "/me/pledges")})
    assert response.status_code == 404
    assert db.session.get(Pledge, pledge.id).status == "held"
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    login(make.admin())
    assert client.get(f"/pledges/{pledge.id}").status_code == 200
    assert client.get(f"/pledges/{pledge.id + 1}").status_code == 404


def test_a_backer_cancels_from_the_list(client, make, login, db):
    project = live_reward_project(make, db)
    login(make.user())
    data = form_fields(client, f"/p/{project.slug}/back")
    data.update(tier_id="", amount="30", payment_method="pm_card_visa")
    client.post(f"/p/{project.slug}/back", data=data)
    pledge = db.session.query(Pledge).one()
    response = client.post(
        f"/pledges/{pledge.id}/cancel", data={"csrf_token": csrf_token(client, "/me/pledges"), "next": "/me/pledges"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/pledges")
    page = client.get("/me/pledges").get_data(as_text=True)
    assert "Your pledge is cancelled" in page and "Cancelled" in page and "Cancel and refund" not in page
    db.session.expire_all()
    assert db.session.get(Pledge, pledge.id).status == "cancelled" and refunds(db) == 1
    assert ledger.verify() == []


def test_an_equity_cancel_inside_the_cutoff_is_refused_with_a_reason(client, make, login, db):
    from datetime import timedelta

    project = live_equity_project(make, db, deadline_in=timedelta(hours=10))
    backer = investor(make, db)
    login(backer)
    data = form_fields(client, f"/p/{project.slug}/back")
    data.update(shares="10", payment_method="pm_card_visa", acknowledge_risks="y")
    assert client.post(f"/p/{project.slug}/back", data=data).status_code == 302
    pledge = db.session.query(Pledge).one()
    page = client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert "This pledge can no longer be cancelled." in page and "Cancel and refund" not in page
    response = client.post(
        f"/pledges/{pledge.id}/cancel",
        data={"csrf_token": csrf_token(client, "/me/pledges"), "next": f"/pledges/{pledge.id}"},
        follow_redirects=True,
    )
    assert "until 48 hours before the campaign" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Pledge, pledge.id).status == "held"


def test_the_first_investment_goes_through_the_investor_profile(client, make, login, db):
    project = live_equity_project(make, db, price_per_share=100, currency="USD")
    login(make.user())
    page = client.get(f"/p/{project.slug}/back").get_data(as_text=True)
    assert "Complete your investor profile" in page
    data = form_fields(client, f"/p/{project.slug}/back")
    data.update(shares="10", payment_method="pm_card_visa", acknowledge_risks="y")
    response = client.post(f"/p/{project.slug}/back", data=data)
    assert response.status_code == 422
    assert "complete your investor profile" in response.get_data(as_text=True)
    assert charges(db) == 0

    profile_path = f"/me/investor-profile?next=/p/{project.slug}/back"
    form = {
        "csrf_token": csrf_token(client, profile_path),
        "next": f"/p/{project.slug}/back",
        "currency": "USD",
        "annual_income": "100000",
        "net_worth": "50000",
        "other_investments_12m": "0",
    }
    response = client.post("/me/investor-profile", data=form)
    assert response.status_code == 422
    assert "understand the risks" in response.get_data(as_text=True)
    assert db.session.query(InvestorProfile).count() == 0
    response = client.post("/me/investor-profile", data={**form, "risk_acknowledged": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/p/{project.slug}/back")
    profile = db.session.query(InvestorProfile).one()
    assert (profile.annual_income, profile.net_worth, profile.accredited) == (10_000_000, 5_000_000, False)

    page = client.get(f"/p/{project.slug}/back").get_data(as_text=True)
    assert "You can invest up to $5,000.00 more" in page
    data = form_fields(client, f"/p/{project.slug}/back")
    data.update(shares="5001", payment_method="pm_card_visa", acknowledge_risks="y")
    response = client.post(f"/p/{project.slug}/back", data=data)
    assert response.status_code == 422
    assert "over your 12-month investment limit" in response.get_data(as_text=True)
    data = form_fields(client, f"/p/{project.slug}/back")
    data.update(shares="5000", payment_method="pm_card_visa", acknowledge_risks="y")
    assert client.post(f"/p/{project.slug}/back", data=data).status_code == 302
    assert db.session.query(Pledge).one().amount == 500_000
    page = client.get("/me/investor-profile").get_data(as_text=True)
    assert 'value="100000.00"' in page


def test_the_back_button_partial(app, make, db):
    from flask import render_template

    project = live_reward_project(make, db)
    with app.test_request_context():
        html = render_template("pledges/_back_button.html", project=project)
    assert f"/p/{project.slug}/back" in html and "Back this project" in html
