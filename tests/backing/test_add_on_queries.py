"""A campaign without add-ons costs no add-on query (`projects.has_add_ons`, set by the first
add-on): not on its page, its backing page, a web pledge, an API pledge or its API project;
and a campaign with add-ons still offers them everywhere."""

from sqlalchemy import select

from crowdfund import ledger
from crowdfund.models import Pledge, Project, RewardAddOn
from crowdfund.services.projects import add_ons
from tests.api.conftest import error_of
from tests.backing.test_backing_pages import form
from tests.support.statements import statements


def add_on_reads(seen):
    return [s for s in seen if "reward_add_ons" in s]


def flag(db, project_id):
    return db.session.get(Project, project_id, populate_existing=True).has_add_ons


def test_a_campaign_without_add_ons_never_asks_for_them(client, login, make, db, api):
    live = make.live_project()
    slug, project_id, tier_id = live.slug, live.id, live.tiers[0].id
    db.session.commit()
    assert flag(db, project_id) is False
    login(make.user())
    back = f"/p/{slug}/back"
    with statements(db) as seen:
        assert client.get(f"/p/{slug}").status_code == 200
        page = client.get(back)
        assert page.status_code == 200 and "Add-ons (optional)" not in page.get_data(as_text=True)
        fields = form(client, back, tier_id=str(tier_id), payment_method="pm_card_visa")
        assert client.post(back, data={**fields, "quote": "Update the total"}).status_code == 200
        placed = client.post(back, data=fields)
        assert placed.status_code == 302, placed.get_data(as_text=True)[:2000]
        token = api.token_for(make.user())
        by_api = api.post(
            f"/projects/{project_id}/pledges", {"tier_id": tier_id, "payment_method": "pm_card_visa"}, token=token
        )
        assert by_api.status_code == 201, by_api.get_json()
        assert api.get(f"/projects/{project_id}").get_json()["add_ons"] == []
    assert add_on_reads(seen) == []
    assert len(db.session.scalars(select(Pledge).where(Pledge.status == "held")).all()) == 2
    assert ledger.verify() == []


def test_naming_an_add_on_of_a_campaign_without_any_is_refused_without_a_query(make, db, api):
    live = make.live_project()
    project_id, tier_id = live.id, live.tiers[0].id
    db.session.commit()
    token = api.token_for(make.user())
    body = {"tier_id": tier_id, "payment_method": "pm_card_visa", "add_ons": [{"id": 1, "quantity": 1}]}
    with statements(db) as seen:
        refused = api.post(f"/projects/{project_id}/pledges", body, token=token)
    assert refused.status_code == 422 and "add_ons" in error_of(refused)["fields"]
    assert add_on_reads(seen) == []
    assert db.session.scalar(select(Pledge)) is None


def test_the_first_add_on_sets_the_flag_and_add_ons_work_on_the_page_and_the_api(client, login, make, db, api):
    live = make.live_project()
    slug, project_id, tier_id = live.slug, live.id, live.tiers[0].id
    founder = make.founder_of(live)
    db.session.commit()
    offered = api.post(
        f"/projects/{project_id}/add-ons", {"title": "Mug", "price": 800, "quantity": 5}, token=api.token_for(founder)
    )
    assert offered.status_code == 201, offered.get_json()
    mug_id = offered.get_json()["id"]
    assert flag(db, project_id) is True
    assert [a["id"] for a in api.get(f"/projects/{project_id}").get_json()["add_ons"]] == [mug_id]

    login(make.user())
    back = f"/p/{slug}/back"
    page = client.get(back).get_data(as_text=True)
    assert "Add-ons (optional)" in page and f'name="add_on-{mug_id}"' in page
    fields = form(client, back, tier_id=str(tier_id), payment_method="pm_card_visa")
    fields[f"add_on-{mug_id}"] = "2"
    placed = client.post(back, data=fields)
    assert placed.status_code == 302, placed.get_data(as_text=True)[:2000]
    token = api.token_for(make.user())
    body = {"tier_id": tier_id, "payment_method": "pm_card_visa", "add_ons": [{"id": mug_id, "quantity": 1}]}
    by_api = api.post(f"/projects/{project_id}/pledges", body, token=token)
    assert by_api.status_code == 201, by_api.get_json()
    assert by_api.get_json()["add_ons_amount"] == 800
    pledges = db.session.scalars(select(Pledge).order_by(Pledge.id)).all()
    assert [p.add_ons_amount for p in pledges] == [1600, 800]
    assert db.session.get(RewardAddOn, mug_id, populate_existing=True).sold == 3
    assert ledger.verify() == []


def test_the_flag_stays_set_when_the_last_add_on_is_removed(client, login, make, db):
    live = make.live_project()
    founder = make.founder_of(live)
    mug = add_ons.add_add_on(founder, live, {"title": "Mug", "price": 800})
    db.session.commit()
    add_ons.delete_add_on(founder, mug)
    db.session.commit()
    # Left true (as has_stretch_goals): the page then asks, finds none and shows none.
    assert flag(db, live.id) is True
    login(make.user())
    page = client.get(f"/p/{live.slug}/back")
    assert page.status_code == 200 and "Add-ons (optional)" not in page.get_data(as_text=True)
