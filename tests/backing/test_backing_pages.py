"""The backing page and the "Change pledge" page, as a backer without script uses them: the
reward first, the running total computed on the server, add-ons, and a change of pledge."""

import re

from sqlalchemy import select

from crowdfund import ledger
from crowdfund.models import Pledge, RewardTier
from crowdfund.services.projects import add_ons
from tests.conftest import csrf_token


def form(client, path, **fields):
    return {"csrf_token": csrf_token(client, path), "idempotency_key": "web-attempt-123456", **fields}


def address(country="GB"):
    return {
        "shipping_name": "Bo Backer",
        "shipping_line1": "1 Some Street",
        "shipping_city": "Somewhere",
        "shipping_postal_code": "AB1 2CD",
        "shipping_country": country,
    }


def total_shown(html):
    return int(re.search(r'data-total="total" data-minor="(\d+)"', html).group(1))


def test_no_reward_is_chosen_for_the_backer_and_the_total_waits_for_a_choice(client, login, make):
    live = make.live_project()
    login(make.user())
    page = client.get(f"/p/{live.slug}/back").get_data(as_text=True)
    assert 'value="none">' in page and "checked" not in page.split('name="tier_id"', 1)[1].split("</fieldset>")[0]
    assert "Choose a reward to see the total." in page
    assert "js/backing.js" in page


def test_the_server_total_is_what_is_charged(client, login, make, db):
    live = make.live_project()
    tier = make.tier(live, title="Lamp", price="40", shipping="worldwide", shipping_fee="6")
    mug = add_ons.add_add_on(make.founder_of(live), live, {"title": "Mug", "price": 800, "quantity": 4})
    db.session.commit()
    login(make.user())
    path = f"/p/{live.slug}/back"
    fields = form(
        client, path, tier_id=str(tier.id), quantity="2", extra="1", payment_method="pm_card_visa", **address("FR")
    )
    fields[f"add_on-{mug.id}"] = "1"
    quoted = client.post(path, data={**fields, "quote": "Update the total"})
    assert quoted.status_code == 200
    html = quoted.get_data(as_text=True)
    assert total_shown(html) == 2 * 4000 + 800 + 600 + 100
    assert "Lamp × 2, Mug × 1" in html
    placed = client.post(path, data=fields)
    assert placed.status_code == 302, placed.get_data(as_text=True)[:2000]
    pledge = db.session.scalar(select(Pledge))
    assert pledge.amount == total_shown(html)
    assert ledger.verify() == []


def test_a_domestic_tier_refuses_a_foreign_address_on_the_form(client, login, make, db):
    live = make.live_project()
    tier = make.tier(live, title="UK only", shipping="domestic", shipping_fee="5")
    login(make.user())
    path = f"/p/{live.slug}/back"
    response = client.post(
        path, data=form(client, path, tier_id=str(tier.id), payment_method="pm_card_visa", **address("CN"))
    )
    assert response.status_code == 422
    assert "“UK only” does not ship to this country." in response.get_data(as_text=True)
    assert db.session.scalar(select(Pledge)) is None


def test_a_backer_changes_their_pledge_on_the_change_page(client, login, make, db):
    live = make.live_project()
    limited = make.tier(live, title="Founders", price="40", quantity="1")
    better = make.tier(live, title="Deluxe", price="90", quantity="5")
    login(make.user())
    path = f"/p/{live.slug}/back"
    client.post(path, data=form(client, path, tier_id=str(limited.id), payment_method="pm_card_visa"))
    pledge = db.session.scalar(select(Pledge))
    receipt = client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert f"/pledges/{pledge.id}/change" in receipt
    change_path = f"/pledges/{pledge.id}/change"
    page = client.get(change_path).get_data(as_text=True)
    assert f'value="{limited.id}" checked' in page
    response = client.post(
        change_path, data=form(client, change_path, tier_id=str(better.id), quantity="1", payment_method="pm_card_visa")
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    db.session.expire_all()
    pledge = db.session.get(Pledge, pledge.id)
    assert (pledge.tier_id, pledge.amount) == (better.id, 9000)
    assert db.session.get(RewardTier, limited.id).sold == 0
    assert ledger.verify() == []


def test_a_founder_offers_an_add_on_on_the_editor(client, login, make, db):
    live = make.live_project()
    login(make.founder_of(live))
    editor = client.get(f"/projects/{live.id}/edit").get_data(as_text=True)
    assert 'id="add-ons"' in editor
    path = f"/projects/{live.id}/add-ons/new"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "title": "Gift wrap",
            "description": "",
            "price": "3.50",
            "quantity": "",
            "shipping": "none",
            "shipping_fee": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    editor = client.get(f"/projects/{live.id}/edit").get_data(as_text=True)
    assert "Gift wrap" in editor


def test_the_backing_and_change_pages_in_chinese(client, login, make, db):
    from tests.web.test_chinese import english_words

    live = make.live_project()
    tier = make.tier(live, title="灯", price="40", shipping="worldwide", shipping_fee="6")
    add_ons.add_add_on(make.founder_of(live), live, {"title": "灯罩", "description": "", "price": 800})
    db.session.commit()
    login(make.user())
    zh = {"Accept-Language": "zh-CN"}
    path = f"/p/{live.slug}/back"
    page = client.get(path + f"?tier={tier.id}", headers=zh).get_data(as_text=True)
    assert "加购项（可选）" in page and "更新总额" in page
    client.post(path, data=form(client, path, tier_id=str(tier.id), payment_method="pm_card_visa", **address("CN")))
    pledge = db.session.scalar(select(Pledge))
    client.get(f"/pledges/{pledge.id}", headers=zh)  # the English "thank you" of the English form, shown once
    change = client.get(f"/pledges/{pledge.id}/change", headers=zh).get_data(as_text=True)
    assert "保存更改" in change
    # What is left in English is the founder's and the backer's own words.
    theirs = {"Test", "Person", "Some", "Street", "Somewhere", "Backer", "Early", "bird", "One", "the", "first"}
    assert set(english_words(change)) - theirs - {"Firm", "Ltd", "Project"} == set()


def test_a_founder_sets_fees_per_destination_on_the_reward_form(client, login, make, db):
    live = make.live_project()
    login(make.founder_of(live))
    path = f"/projects/{live.id}/tiers/new"
    fields = {
        "csrf_token": csrf_token(client, path),
        "title": "Kit",
        "description": "",
        "price": "50",
        "quantity": "",
        "per_backer_limit": "",
        "estimated_delivery": "2099-01",
        "shipping": "worldwide",
        "shipping_fee": "0",
        "shipping_rates": "domestic 4\neu 12.50\nUS -",
    }
    response = client.post(path, data=fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    tier = db.session.scalar(select(RewardTier).where(RewardTier.title == "Kit"))
    assert tier.shipping_rates == [{"to": "domestic", "fee": 400}, {"to": "eu", "fee": 1250}, {"to": "US", "fee": None}]
    edit = client.get(f"/projects/{live.id}/tiers/{tier.id}/edit").get_data(as_text=True)
    assert "eu 12.50" in edit
    bad = client.post(path, data={**fields, "csrf_token": csrf_token(client, path), "shipping_rates": "mars 5"})
    assert bad.status_code == 422 and "Name each destination" in bad.get_data(as_text=True)
