"""Founders change an add-on while the campaign is a draft or live: through the API
(`PATCH /api/v1/add-ons/{id}`) and the editor's form. Its price holds while a pledge has it,
its quantity never drops below what backers took, and a live campaign's changes are listed."""

import re

from sqlalchemy import select

from crowdfund.models import ProjectEdit, RewardAddOn
from crowdfund.services.projects import add_ons
from crowdfund.workflows import checkout
from tests.api.conftest import error_of
from tests.conftest import csrf_token


def offer(make, db, project, **fields):
    add_on = add_ons.add_add_on(
        make.founder_of(project), project, {"title": "Mug", "price": 700, "quantity": 5, **fields}
    )
    db.session.commit()
    return add_on


def take(make, db, project, add_on_id, units):
    """A backer pledges for the first reward with `units` of the add-on."""
    pledge = checkout.place_pledge(
        make.user(),
        project,
        idempotency_key=f"add-on-edit-{add_on_id}-{units}",
        payment_method="pm_card_visa",
        tier_id=project.tiers[0].id,
        add_ons=[{"id": add_on_id, "quantity": units}],
    )
    assert pledge.status == "held"
    db.session.commit()


def stored(db, add_on_id):
    return db.session.get(RewardAddOn, add_on_id, populate_existing=True)


def test_the_founder_changes_an_add_on_and_the_project_shows_it_and_its_changes(api, make, live, db):
    mug = offer(make, db, live)
    token = api.token_for(make.founder_of(live))
    response = api.patch(
        f"/add-ons/{mug.id}",
        {"title": "Big mug", "price": 900, "quantity": 8, "shipping": "worldwide", "shipping_fee": 300},
        token=token,
    )
    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    assert changed == next(a for a in api.get(f"/projects/{live.id}").get_json()["add_ons"] if a["id"] == mug.id)
    assert (changed["title"], changed["price"], changed["remaining"], changed["shipping_fee"]) == (
        "Big mug",
        900,
        8,
        300,
    )
    assert changed["description"] == "" and changed["shipping"] == "worldwide"  # what was not sent stays

    summaries = [c["summary"] for c in api.get(f"/projects/{live.id}/changes").get_json()["items"]]
    assert "Add-on Big mug: the price changed from $7.00 to $9.00." in summaries
    assert "Add-on Big mug: the title changed from Mug to Big mug." in summaries
    chinese = api.get(f"/projects/{live.id}/changes", headers={"Accept-Language": "zh-CN"}).get_json()["items"]
    assert all("Add-on" not in c["summary"] for c in chinese)


def test_only_the_campaigns_firm_may_change_an_add_on(api, make, live, db):
    mug = offer(make, db, live)
    for token in (api.token_for(make.user()), api.token_for(make.founder_of(make.live_project()))):
        response = api.patch(f"/add-ons/{mug.id}", {"title": "Mine now"}, token=token)
        assert response.status_code == 404
    assert api.patch(f"/add-ons/{mug.id + 1000}", {"title": "X"}, token=api.token_for(make.user())).status_code == 404
    assert api.patch(f"/add-ons/{mug.id}", {"title": "X"}).status_code == 401
    assert stored(db, mug.id).title == "Mug"


def test_bad_input_is_refused_naming_each_field_and_changes_nothing(api, make, live, db):
    mug = offer(make, db, live)
    token = api.token_for(make.founder_of(live))
    response = api.patch(f"/add-ons/{mug.id}", {"title": "  ", "price": 0, "quantity": 0}, token=token)
    assert response.status_code == 422
    assert {"title", "price", "quantity"} <= set(error_of(response)["fields"])
    wrong_type = api.patch(f"/add-ons/{mug.id}", {"price": "nine"}, token=token)
    assert wrong_type.status_code == 422 and "price" in error_of(wrong_type)["fields"]
    fee = api.patch(f"/add-ons/{mug.id}", {"shipping_fee": 200}, token=token)  # nothing is shipped
    assert fee.status_code == 422 and "shipping_fee" in error_of(fee)["fields"]
    row = stored(db, mug.id)
    assert (row.title, row.price, row.quantity, row.shipping_fee) == ("Mug", 700, 5, 0)
    assert db.session.scalars(select(ProjectEdit).where(ProjectEdit.field.like(f"add-on {mug.id} %"))).all() == [
        e for e in db.session.scalars(select(ProjectEdit)).all() if e.field == f"add-on {mug.id} added"
    ]


def test_an_add_on_with_backers_keeps_its_price_and_at_least_the_units_taken(api, make, live, db):
    mug = offer(make, db, live)
    take(make, db, live, mug.id, 3)
    token = api.token_for(make.founder_of(live))

    below = api.patch(f"/add-ons/{mug.id}", {"quantity": 2}, token=token)
    assert below.status_code == 422
    assert error_of(below)["fields"]["quantity"] == (
        "Backers have already taken 3, so the quantity cannot be less than that."
    )
    price = api.patch(f"/add-ons/{mug.id}", {"price": 500}, token=token)
    assert price.status_code == 422 and "price" in error_of(price)["fields"]
    assert (stored(db, mug.id).quantity, stored(db, mug.id).price) == (5, 700)
    shipped = api.patch(f"/add-ons/{mug.id}", {"shipping": "worldwide", "shipping_fee": 300}, token=token)
    assert shipped.status_code == 422
    assert error_of(shipped)["fields"]["shipping"] == (
        "Backers have already added this add-on, so its shipping cannot change."
    )
    assert stored(db, mug.id).shipping == "none"

    exactly = api.patch(f"/add-ons/{mug.id}", {"quantity": 3, "title": "Mug (last ones)"}, token=token)
    assert exactly.status_code == 200 and exactly.get_json()["remaining"] == 0
    unlimited = api.patch(f"/add-ons/{mug.id}", {"quantity": None, "price": 700}, token=token)  # same price: fine
    assert unlimited.status_code == 200 and unlimited.get_json()["remaining"] is None


def test_a_draft_campaigns_add_on_changes_without_a_changes_entry(api, make, db):
    draft = make.project()
    mug = offer(make, db, draft)
    response = api.patch(f"/add-ons/{mug.id}", {"price": 1200}, token=api.token_for(make.founder_of(draft)))
    assert response.status_code == 200 and response.get_json()["price"] == 1200
    assert db.session.scalars(select(ProjectEdit).where(ProjectEdit.project_id == draft.id)).all() == []


# --- the editor's form ---------------------------------------------------------------------


def edit_path(project, add_on):
    return f"/projects/{project.id}/add-ons/{add_on.id}/edit"


def fields(client, path, **overrides):
    return {
        "csrf_token": csrf_token(client, path),
        "title": "Mug",
        "description": "",
        "price": "7.00",
        "quantity": "5",
        "shipping": "none",
        "shipping_fee": "",
        **overrides,
    }


def test_the_founder_edits_an_add_on_on_the_editor_in_both_languages(client, login, make, live, db):
    mug = offer(make, db, live)
    login(make.founder_of(live))
    editor = client.get(f"/projects/{live.id}/edit").get_data(as_text=True)
    assert f'href="{edit_path(live, mug)}"' in editor
    english = client.get(edit_path(live, mug))
    assert english.status_code == 200 and "Edit add-on" in english.get_data(as_text=True)
    chinese = client.get(edit_path(live, mug), headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 200
    heading = re.search(r"<h1>(.*?)</h1>", chinese.get_data(as_text=True)).group(1)
    assert heading and "Edit" not in heading

    path = edit_path(live, mug)
    saved = client.post(path, data=fields(client, path, title="Travel mug", price="8.50"))
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/projects/{live.id}/edit#add-ons")
    shown = client.get(f"/projects/{live.id}/edit").get_data(as_text=True)
    assert "The add-on is saved." in shown and "Travel mug" in shown
    assert (stored(db, mug.id).title, stored(db, mug.id).price) == ("Travel mug", 850)
    page = client.get(f"/p/{live.slug}").get_data(as_text=True)
    assert "Add-on Travel mug: the price changed from $7.00 to $8.50." in page


def test_the_form_says_when_the_quantity_is_below_what_backers_took(client, login, make, live, db):
    mug = offer(make, db, live)
    take(make, db, live, mug.id, 2)
    login(make.founder_of(live))
    path = edit_path(live, mug)
    page = client.get(path).get_data(as_text=True)
    assert "Backers have already taken 2 of this add-on" in page
    refused = client.post(path, data=fields(client, path, quantity="1"))
    assert refused.status_code == 422
    assert "Backers have already taken 2, so the quantity cannot be less than that." in refused.get_data(as_text=True)
    assert stored(db, mug.id).quantity == 5
    chinese = client.post(path, data=fields(client, path, quantity="1"), headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 422 and "Backers have already taken" not in chinese.get_data(as_text=True)
