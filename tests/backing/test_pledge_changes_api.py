"""Changing a held pledge while the campaign is live (PATCH /pledges/{id}): tier, quantity,
add-ons and address; the difference moves through the processor and the ledger."""

from sqlalchemy import select

from crowdfund.models import Pledge, RewardTier, SandboxOperation
from tests.api.conftest import error_of
from tests.backing.conftest import address, books_agree


def refunds(db):
    return db.session.scalars(
        select(SandboxOperation.amount).where(SandboxOperation.kind == "refund").order_by(SandboxOperation.created_at)
    ).all()


def place(api, live, token, **body):
    response = api.post(f"/projects/{live.id}/pledges", {"payment_method": "pm_card_visa", **body}, token=token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def statement(api, make, live):
    return api.get(f"/projects/{live.id}/statement", token=api.token_for(make.founder_of(live))).get_json()


def test_upgrade_keeping_the_place_add_an_add_on_and_move(api, make, live, db):
    limited = make.tier(
        live, title="Founders' edition", price="40", quantity="1", shipping="worldwide", shipping_fee="6"
    )
    better = make.tier(live, title="Deluxe", price="90", quantity="10", shipping="worldwide", shipping_fee="6")
    mug = api.post(
        f"/projects/{live.id}/add-ons",
        {"title": "Mug", "price": 800, "quantity": 5},
        token=api.token_for(make.founder_of(live)),
    ).get_json()
    token = api.token_for(make.user())
    pledge = place(api, live, token, tier_id=limited.id, shipping_address=address("GB"))
    assert pledge["amount"] == 4600

    # The last unit of a limited tier is the backer's: adding a mug keeps it (not "sold out").
    changed = api.patch(f"/pledges/{pledge['id']}", {"add_ons": [{"id": mug["id"], "quantity": 1}]}, token=token)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["amount"] == 4600 + 800
    assert db.session.get(RewardTier, limited.id, populate_existing=True).sold == 1
    assert books_agree(live.id) == 5400

    # A new address abroad: same fee (worldwide), nothing charged.
    moved = api.patch(f"/pledges/{pledge['id']}", {"shipping_address": address("FR", city="Lyon")}, token=token)
    assert moved.status_code == 200 and moved.get_json()["shipping_address"]["city"] == "Lyon"
    assert moved.get_json()["amount"] == 5400

    # Upgrade to the deluxe tier: its units are taken, the limited one is free again.
    upgraded = api.patch(f"/pledges/{pledge['id']}", {"tier_id": better.id}, token=token)
    assert upgraded.status_code == 200, upgraded.get_json()
    body = upgraded.get_json()
    assert (body["tier_id"], body["amount"]) == (better.id, 9000 + 600 + 800)
    assert db.session.get(RewardTier, limited.id, populate_existing=True).sold == 0
    assert db.session.get(RewardTier, better.id, populate_existing=True).sold == 1
    total = books_agree(live.id)
    assert total == body["amount"]
    money = statement(api, make, live)
    assert money["gross"] == money["in_escrow"] == total  # ledger and statement agree to the cent
    # The processor: the earlier charge went back in full; the pledge's charge is the new total.
    assert refunds(db)[-1] == 5400
    held = db.session.get(Pledge, pledge["id"], populate_existing=True)
    charge = db.session.get(SandboxOperation, held.charge_ref)
    assert charge.amount == held.amount == 10400


def test_downgrade_refunds_the_difference(api, make, live, db):
    tier = live.tiers[0]
    token = api.token_for(make.user())
    pledge = place(api, live, token, tier_id=tier.id, quantity=3)
    smaller = api.patch(f"/pledges/{pledge['id']}", {"quantity": 1}, token=token)
    assert smaller.status_code == 200, smaller.get_json()
    assert smaller.get_json()["amount"] == tier.price
    assert refunds(db) == [2 * tier.price]
    assert db.session.get(RewardTier, tier.id, populate_existing=True).sold == 1
    assert books_agree(live.id) == tier.price
    # Cancelling afterwards returns exactly what is left on the charge.
    cancelled = api.post(f"/pledges/{pledge['id']}/cancel", token=token)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert refunds(db) == [2 * tier.price, tier.price]
    assert books_agree(live.id) == 0


def test_a_full_tier_is_refused_and_the_pledge_stays_as_it_was(api, make, live, db):
    full = make.tier(live, title="Rare", price="60", quantity="1")
    place(api, live, api.token_for(make.user()), tier_id=full.id)
    token = api.token_for(make.user())
    pledge = place(api, live, token, tier_id=live.tiers[0].id)
    response = api.patch(f"/pledges/{pledge['id']}", {"tier_id": full.id}, token=token)
    assert response.status_code == 409 and error_of(response)["code"] == "sold_out"
    again = api.get(f"/pledges/{pledge['id']}", token=token).get_json()
    assert (again["tier_id"], again["amount"]) == (pledge["tier_id"], pledge["amount"])
    assert db.session.get(RewardTier, full.id, populate_existing=True).sold == 1
    books_agree(live.id)


def test_a_change_to_a_country_the_tier_does_not_ship_to_is_refused(api, make, live):
    home = make.tier(live, title="UK only", shipping="domestic", shipping_fee="5")
    token = api.token_for(make.user())
    pledge = place(api, live, token, tier_id=home.id, shipping_address=address("GB"))
    response = api.patch(f"/pledges/{pledge['id']}", {"shipping_address": address("US")}, token=token)
    assert response.status_code == 422
    assert error_of(response)["code"] == "does_not_ship"
    assert "shipping_address.country" in error_of(response)["fields"]


def test_a_declined_card_leaves_the_pledge_and_frees_the_units(api, make, live, db):
    better = make.tier(live, title="Deluxe", price="90", quantity="1")
    token = api.token_for(make.user())
    pledge = place(api, live, token, tier_id=live.tiers[0].id)
    response = api.patch(
        f"/pledges/{pledge['id']}", {"tier_id": better.id, "payment_method": "pm_card_chargeDeclined"}, token=token
    )
    assert response.status_code == 402
    assert api.get(f"/pledges/{pledge['id']}", token=token).get_json()["amount"] == pledge["amount"]
    assert db.session.get(RewardTier, better.id, populate_existing=True).sold == 0
    books_agree(live.id)


def test_only_the_backer_changes_their_pledge_and_only_while_held(api, make, live):
    token = api.token_for(make.user())
    pledge = place(api, live, token, tier_id=live.tiers[0].id)
    other = api.patch(f"/pledges/{pledge['id']}", {"quantity": 2}, token=api.token_for(make.user()))
    assert other.status_code == 404
    same = api.patch(f"/pledges/{pledge['id']}", {"quantity": 1}, token=token)
    assert same.status_code == 422 and error_of(same)["code"] == "no_change"
    api.post(f"/pledges/{pledge['id']}/cancel", token=token)
    late = api.patch(f"/pledges/{pledge['id']}", {"quantity": 2}, token=token)
    assert late.status_code == 409 and error_of(late)["code"] == "wrong_state"


def test_the_books_agree_with_the_processor_after_changes(api, make, live, db):
    from crowdfund import ledger
    from crowdfund.payments import get_gateway
    from crowdfund.services import reconciliation

    better = make.tier(live, title="Deluxe", price="90")
    token = api.token_for(make.user())
    pledge = place(api, live, token, tier_id=live.tiers[0].id, quantity=2)
    assert api.patch(f"/pledges/{pledge['id']}", {"quantity": 1}, token=token).status_code == 200
    assert api.patch(f"/pledges/{pledge['id']}", {"tier_id": better.id}, token=token).status_code == 200
    assert reconciliation.differences(get_gateway().activity()) == []
    assert api.post(f"/pledges/{pledge['id']}/cancel", token=token).get_json()["status"] == "cancelled"
    assert reconciliation.differences(get_gateway().activity()) == []
    assert ledger.verify() == []


def test_the_books_agree_with_the_processor_after_a_smaller_pledge(api, make, live, db):
    """The charge stays as it was, less the part refunded: the pledge is for what is left."""
    from crowdfund import ledger
    from crowdfund.payments import get_gateway
    from crowdfund.services import reconciliation

    token = api.token_for(make.user())
    pledge = place(api, live, token, tier_id=live.tiers[0].id, quantity=3)
    smaller = api.patch(f"/pledges/{pledge['id']}", {"quantity": 1}, token=token)
    assert smaller.status_code == 200 and smaller.get_json()["amount"] < pledge["amount"]
    assert reconciliation.differences(get_gateway().activity()) == []
    assert ledger.verify() == []
