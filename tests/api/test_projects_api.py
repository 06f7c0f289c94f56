"""Projects through the API: visibility, discovery, editing rules, review."""

from crowdfund.services import discovery
from tests.api.conftest import error_of


def test_drafts_are_seen_only_by_their_firm_and_admins(api, make):
    draft = make.project(title="Quiet Draft")
    founder = make.founder_of(draft)
    stranger, admin = make.user(), make.admin()
    path = f"/projects/{draft.id}"
    assert api.get(path).status_code == 404
    assert api.get(path, token=api.token_for(stranger)).status_code == 404
    shown = api.get(path, token=api.token_for(founder)).get_json()
    assert (shown["title"], shown["status"], shown["deadline"]) == ("Quiet Draft", "draft", None)
    assert shown["tiers"][0]["price"] == 2500 and shown["tiers"][0]["remaining"] == 100
    assert api.get(path, token=api.token_for(admin)).status_code == 200


def test_the_public_page_of_a_live_equity_campaign(api, make):
    live = make.live_project(kind="equity")
    shown = api.get(f"/projects/{live.id}").get_json()
    assert shown["status"] == "live" and shown["risk_grade"] == "B" and shown["tiers"] == []
    assert shown["equity"] == {
        "security_type": "ordinary_shares",
        "price_per_share": 1000,
        "shares_offered": 1000,
        "min_shares": 5,
        "pre_money_valuation": 100_000_000,
        "shares_outstanding": 100000,
        "shares_remaining": 1000,
    }
    assert shown["deadline"].endswith("Z")


def test_list_shows_public_campaigns_and_filters(api, make):
    firm = make.firm()
    founder = firm.members[0].user
    tea = make.live_project(firm=firm, title="Green tea kettle", category="food")
    make.live_project(kind="equity", title="Kettle shares", category="food")
    make.live_project(title="Board game", category="games")
    draft = make.project(firm=firm, title="Kettle draft")
    everyone = api.get("/projects").get_json()
    assert everyone["total"] == 3 and everyone["page"] == 1
    assert draft.id not in {item["id"] for item in everyone["items"]}
    kettles = api.get("/projects?q=KETTLE").get_json()
    assert {item["title"] for item in kettles["items"]} == {"Green tea kettle", "Kettle shares"}
    assert [i["id"] for i in api.get("/projects?q=kettle&kind=reward").get_json()["items"]] == [tea.id]
    assert api.get("/projects?category=games").get_json()["total"] == 1
    assert api.get("/projects?q=50%25").get_json()["total"] == 0  # % is searched for, not a wildcard
    paged = api.get("/projects?per_page=2&page=2").get_json()
    assert (paged["total"], len(paged["items"]), paged["per_page"]) == (3, 1, 2)
    first = api.get("/projects?per_page=2").get_json()  # more than a page: the API counts them all
    assert (first["total"], len(first["items"])) == (3, 2)
    # status filters: within what the caller may see
    assert api.get("/projects?status=draft").get_json()["items"] == []
    assert api.get("/projects?status=draft", token=api.token_for(make.user())).get_json()["items"] == []
    mine = api.get("/projects?status=draft", token=api.token_for(founder)).get_json()
    assert [item["title"] for item in mine["items"]] == ["Kettle draft"]
    assert api.get("/projects?status=draft", token=api.token_for(make.admin())).get_json()["total"] == 1
    bad = api.get("/projects?sort=cheapest")
    assert bad.status_code == 422 and "sort" in error_of(bad)["fields"]
    assert api.get("/projects?page=0").status_code == 422


def test_search_service_rejects_nonsense_with_field_errors(db):
    import pytest

    from crowdfund.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        discovery.search_projects(q="x" * 101, kind="loan", status="open", page=0, per_page=1000)
    assert set(caught.value.fields) == {"q", "kind", "status", "page", "per_page"}


def test_after_approval_only_the_story_changes(api, make):
    project = make.approved_project()
    token = api.token_for(make.founder_of(project))
    locked = api.patch(f"/projects/{project.id}", {"goal": 1}, token=token)
    assert locked.status_code == 422 and "goal" in error_of(locked)["fields"]
    story = api.patch(f"/projects/{project.id}", {"summary": "Now with a lid."}, token=token)
    assert story.status_code == 200 and story.get_json()["summary"] == "Now with a lid."


def test_equity_terms_errors_are_reported_under_equity(api, make):
    firm = make.firm()
    token = api.token_for(firm.members[0].user)
    response = api.post(
        "/projects",
        {
            "firm_id": firm.id,
            "kind": "equity",
            "title": "Shares",
            "summary": "S",
            "category": "design",
            "currency": "USD",
            "goal": 100_000,
            "equity": {
                "price_per_share": 100,
                "shares_offered": 10,
                "min_shares": 1,
                "pre_money_valuation": 10_000,
                "shares_outstanding": 100,
            },
        },
        token=token,
    )
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["equity.shares_offered"]
    assert api.get("/projects?status=draft", token=token).get_json()["total"] == 0  # all or nothing


def test_review_rules(api, make):
    project = make.submitted_project()
    admin = api.token_for(make.admin())
    path = f"/admin/projects/{project.id}/review"
    no_note = api.post(path, {"decision": "reject"}, token=admin)
    assert no_note.status_code == 422 and "note" in error_of(no_note)["fields"]
    own = api.post(path, {"decision": "reject", "note": "x"}, token=api.token_for(make.founder_of(project)))
    assert own.status_code == 403
    changes = api.post(path, {"decision": "request_changes", "note": "Add photos."}, token=admin)
    assert changes.get_json() == {"id": project.id, "status": "changes_requested"}
    again = api.post(path, {"decision": "approve"}, token=admin)
    assert again.status_code == 409 and error_of(again)["code"] == "wrong_state"
    assert api.post("/admin/projects/999999/review", {"decision": "approve"}, token=admin).status_code == 404


def test_documents_must_be_what_they_claim(api, make):
    project = make.project(kind="equity", complete=False)
    token = api.token_for(make.founder_of(project))
    import io

    fake = api.post(
        f"/projects/{project.id}/documents",
        token=token,
        content_type="multipart/form-data",
        data={"kind": "business_plan", "file": (io.BytesIO(b"MZ not a pdf"), "plan.pdf", "application/pdf")},
    )
    assert fake.status_code == 422 and "file" in error_of(fake)["fields"]
    no_file = api.post(
        f"/projects/{project.id}/documents",
        token=token,
        content_type="multipart/form-data",
        data={"kind": "business_plan"},
    )
    assert no_file.status_code == 422 and error_of(no_file)["fields"] == {"file": "Choose a file to upload."}
    as_json = api.post(f"/projects/{project.id}/documents", {"kind": "cover"}, token=token)
    assert as_json.status_code == 400
