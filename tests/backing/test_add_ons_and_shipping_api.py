"""Add-ons and shipping by destination, through the API as a founder and a backer would use it."""

from crowdfund.models import RewardAddOn
from tests.api.conftest import error_of
from tests.backing.conftest import address, books_agree


def founder_token(api, make, project):
    return api.token_for(make.founder_of(project))


def test_a_founder_offers_an_add_on_and_the_project_lists_it(api, make, live):
    response = api.post(
        f"/projects/{live.id}/add-ons",
        {"title": "Spare cable", "description": "A second USB-C cable.", "price": 900, "quantity": 5},
        token=founder_token(api, make, live),
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["title"] == "Spare cable" and created["remaining"] == 5 and created["price"] == 900
    listed = api.get(f"/projects/{live.id}").get_json()["add_ons"]
    assert [a["id"] for a in listed] == [created["id"]]


def test_an_add_on_needs_a_title_and_a_price_and_a_backer_cannot_add_one(api, make, live):
    bad = api.post(f"/projects/{live.id}/add-ons", {"title": "", "price": 0}, token=founder_token(api, make, live))
    assert bad.status_code == 422 and {"title", "price"} <= set(error_of(bad)["fields"])
    stranger = api.post(
        f"/projects/{live.id}/add-ons", {"title": "Mug", "price": 500}, token=api.token_for(make.user())
    )
    assert stranger.status_code in (403, 404)


def test_a_pledge_with_add_ons_pays_for_them_and_takes_their_stock(api, make, live, db):
    tier = live.tiers[0]
    add_on = api.post(
        f"/projects/{live.id}/add-ons",
        {"title": "Mug", "price": 700, "quantity": 3},
        token=founder_token(api, make, live),
    ).get_json()
    response = api.post(
        f"/projects/{live.id}/pledges",
        {"tier_id": tier.id, "payment_method": "pm_card_visa", "add_ons": [{"id": add_on["id"], "quantity": 2}]},
        token=api.token_for(make.user()),
    )
    assert response.status_code == 201, response.get_json()
    pledge = response.get_json()
    assert pledge["amount"] == tier.price + 2 * 700
    assert pledge["add_ons"] == [{"id": add_on["id"], "title": "Mug", "quantity": 2, "price": 700}]
    assert pledge["add_ons_amount"] == 1400
    assert db.session.get(RewardAddOn, add_on["id"], populate_existing=True).sold == 2
    assert books_agree(live.id) == pledge["amount"]


def test_add_on_stock_is_never_oversold(api, make, live, db):
    tier = live.tiers[0]
    add_on = api.post(
        f"/projects/{live.id}/add-ons",
        {"title": "Mug", "price": 700, "quantity": 1},
        token=founder_token(api, make, live),
    ).get_json()
    body = {"tier_id": tier.id, "payment_method": "pm_card_visa", "add_ons": [{"id": add_on["id"], "quantity": 1}]}
    first = api.post(f"/projects/{live.id}/pledges", body, token=api.token_for(make.user()))
    second = api.post(f"/projects/{live.id}/pledges", body, token=api.token_for(make.user()))
    assert first.status_code == 201
    assert second.status_code == 409 and error_of(second)["code"] == "sold_out"
    assert "add_ons" in error_of(second)["fields"]
    assert db.session.get(RewardAddOn, add_on["id"], populate_existing=True).sold == 1
    books_agree(live.id)


def test_add_ons_come_with_a_reward(api, make, live):
    add_on = api.post(
        f"/projects/{live.id}/add-ons", {"title": "Mug", "price": 700}, token=founder_token(api, make, live)
    ).get_json()
    response = api.post(
        f"/projects/{live.id}/pledges",
        {"amount": 1000, "payment_method": "pm_card_visa", "add_ons": [{"id": add_on["id"], "quantity": 1}]},
        token=api.token_for(make.user()),
    )
    assert response.status_code == 422 and "add_ons" in error_of(response)["fields"]


def test_a_domestic_only_tier_refuses_a_foreign_address(api, make, live, db):
    tier = make.tier(live, title="UK only", shipping="domestic", shipping_fee="5")  # the firm is British
    token = api.token_for(make.user())
    body = {"tier_id": tier.id, "payment_method": "pm_card_visa"}
    abroad = api.post(f"/projects/{live.id}/pledges", {**body, "shipping_address": address("CN")}, token=token)
    assert abroad.status_code == 422, abroad.get_json()
    error = error_of(abroad)
    assert error["code"] == "does_not_ship" and "shipping_address.country" in error["fields"]
    at_home = api.post(f"/projects/{live.id}/pledges", {**body, "shipping_address": address("GB")}, token=token)
    assert at_home.status_code == 201
    assert at_home.get_json()["shipping_fee"] == 500
    assert books_agree(live.id) == at_home.get_json()["amount"]


def test_fees_per_destination_and_places_a_tier_does_not_ship_to(api, make, live):
    created = api.post(
        f"/projects/{live.id}/tiers",
        {
            "title": "Kit",
            "price": 5000,
            "estimated_delivery": "2099-01",
            "shipping": "worldwide",
            "shipping_fee": 0,
            "shipping_rates": [
                {"to": "domestic", "fee": 400},
                {"to": "eu", "fee": 1500},
                {"to": "US", "fee": None},
                {"to": "north_america", "fee": 2500},
            ],
        },
        token=founder_token(api, make, live),
    )
    assert created.status_code == 201, created.get_json()
    tier_id = created.get_json()["id"]
    token = api.token_for(make.user())

    def pledge(country):
        return api.post(
            f"/projects/{live.id}/pledges",
            {"tier_id": tier_id, "payment_method": "pm_card_visa", "shipping_address": address(country)},
            token=token,
        )

    assert pledge("GB").get_json()["shipping_fee"] == 400
    assert pledge("FR").get_json()["shipping_fee"] == 1500
    assert pledge("CA").get_json()["shipping_fee"] == 2500
    for nowhere in ("US", "JP"):  # refused by name, and not named at all (no rest_of_world)
        response = pledge(nowhere)
        assert response.status_code == 422 and error_of(response)["code"] == "does_not_ship"


def test_bad_shipping_rates_are_refused_naming_the_field(api, make, live):
    response = api.post(
        f"/projects/{live.id}/tiers",
        {
            "title": "Kit",
            "price": 5000,
            "estimated_delivery": "2099-01",
            "shipping": "domestic",
            "shipping_rates": [{"to": "rest_of_world", "fee": 100}],
        },
        token=founder_token(api, make, live),
    )
    assert response.status_code == 422 and "shipping_rates" in error_of(response)["fields"]
