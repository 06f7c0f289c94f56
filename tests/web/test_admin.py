"""The admin pages: review queue, review form, live campaigns and suspension."""

import re

from crowdfund.models import Project, Review
from tests.conftest import csrf_token

TICKS = {"identity_verified": "y", "registration_valid": "y", "rewards_feasible": "y", "risks_disclosed": "y"}


def review_form(client, project, **overrides):
    data = {
        **TICKS,
        "risk_grade": "B",
        "decision": "approve",
        "note": "",
        "csrf_token": csrf_token(client, f"/admin/reviews/{project.id}"),
    }
    data.update(overrides)
    return data


def test_non_admins_cannot_open_admin_pages(client, make, login, db):
    project = make.submitted_project()
    live = make.live_project()
    paths = [
        "/admin/",
        "/admin/reviews",
        f"/admin/reviews/{project.id}",
        "/admin/campaigns",
        f"/admin/campaigns/{live.id}/suspend",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"], path
    login(make.founder_of(project))
    for path in paths:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/projects/")
    response = client.post(
        f"/admin/reviews/{project.id}", data={**TICKS, "risk_grade": "A", "decision": "approve", "csrf_token": token}
    )
    assert response.status_code == 403
    assert (
        client.post(f"/admin/campaigns/{live.id}/suspend", data={"note": "x", "csrf_token": token}).status_code == 403
    )
    db.session.expire_all()
    assert db.session.get(Project, project.id).status == "in_review"
    assert db.session.get(Project, live.id).status == "live"


def test_the_queue_lists_projects_waiting_for_review(client, make, login, db):
    waiting = make.submitted_project(title="Waiting one")
    make.project(title="Still a draft")
    login(make.admin())
    page = client.get("/admin/reviews").get_data(as_text=True)
    assert "Waiting one" in page and "Still a draft" not in page
    assert f"/admin/reviews/{waiting.id}" in page


def test_an_admin_approves_with_the_checklist(client, make, login, db):
    project = make.submitted_project()
    login(make.admin())
    page = client.get(f"/admin/reviews/{project.id}").get_data(as_text=True)
    assert "The rewards and delivery dates are feasible" in page
    assert 'name="financials_present"' not in page  # does not apply to a reward project
    response = client.post(f"/admin/reviews/{project.id}", data=review_form(client, project, risk_grade="A"))
    assert response.status_code == 302
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert (project.status, project.risk_grade) == ("approved", "A")
    assert db.session.query(Review).one().decision == "approve"


def test_approval_without_every_check_is_refused(client, make, login, db):
    project = make.submitted_project()
    login(make.admin())
    data = review_form(client, project)
    del data["risks_disclosed"]
    response = client.post(f"/admin/reviews/{project.id}", data=data)
    assert response.status_code == 422
    assert "Approval needs every checklist item: the risks are honestly disclosed." in response.get_data(as_text=True)
    assert db.session.get(Project, project.id).status == "in_review"


def test_rejection_needs_a_note(client, make, login, db):
    project = make.submitted_project()
    login(make.admin())
    response = client.post(f"/admin/reviews/{project.id}", data=review_form(client, project, decision="reject"))
    assert response.status_code == 422
    assert "Write a note for the founder" in response.get_data(as_text=True)
    response = client.post(
        f"/admin/reviews/{project.id}",
        data=review_form(client, project, decision="reject", note="This is a resale of someone else's product."),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, project.id).status == "rejected"


def test_an_admin_cannot_review_their_own_firms_project(client, make, login, db):
    admin = make.admin()
    project = make.submitted_project(firm=make.firm(owner=admin))
    login(admin)
    page = client.get(f"/admin/reviews/{project.id}").get_data(as_text=True)
    assert "another administrator must review it" in page
    response = client.post(f"/admin/reviews/{project.id}", data=review_form(client, project))
    assert response.status_code == 403
    assert "You cannot review a project of a firm you belong to." in response.get_data(as_text=True)
    assert db.session.get(Project, project.id).status == "in_review"


def test_an_admin_suspends_a_live_campaign(client, make, login, db):
    live = make.live_project(title="Dubious gadget")
    login(make.admin())
    assert "Dubious gadget" in client.get("/admin/campaigns").get_data(as_text=True)
    token = csrf_token(client, f"/admin/campaigns/{live.id}/suspend")
    assert client.post(f"/admin/campaigns/{live.id}/suspend", data={"note": "", "csrf_token": token}).status_code == 422
    response = client.post(f"/admin/campaigns/{live.id}/suspend", data={"note": "Fraud reports.", "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, live.id).status == "suspended"
    assert "Dubious gadget" not in client.get("/admin/campaigns").get_data(as_text=True)


def test_admins_see_drafts_and_the_nav_link(client, make, login, db):
    draft = make.project(title="Private draft")
    login(make.admin())
    assert client.get(f"/p/{draft.slug}").status_code == 200
    home = client.get("/").get_data(as_text=True)
    assert 'href="/admin/reviews"' in home and ">Admin</a>" in home


def admin_tabs(page):
    """The admin tabs of a page: [(href, label, marked current)]."""
    tabs = re.search(r'<ul class="admin-tabs">(.*?)</ul>', page, re.S)
    assert tabs, "no admin tabs"
    return [
        (href, label, bool(current))
        for href, current, label in re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', tabs.group(1))
    ]


def test_every_tabbed_admin_page_marks_its_own_tab(client, make, login, db):
    login(make.admin())
    expected = [
        ("/admin/reviews", "Review queue"),
        ("/admin/campaigns", "Live campaigns"),
        ("/admin/users", "Users"),
        ("/admin/settlements", "Settlements"),
        ("/admin/deliveries", "Deliveries"),
        ("/admin/firm-changes", "Firm changes"),
        ("/admin/disputes", "Disputes"),
        ("/admin/changes", "Campaign changes"),
        ("/admin/comments", "Reported comments"),
        ("/admin/fx-rates", "Exchange rates"),
        ("/admin/custody-report", "Custody report"),
    ]
    for path, label in expected:
        tabs = admin_tabs(client.get(path).get_data(as_text=True))
        assert [(href, text) for href, text, _ in tabs] == expected, path
        assert [text for _, text, current in tabs if current] == [label], path
    page = client.get("/admin/settlements").get_data(as_text=True)
    assert "<h2>Settlements</h2>" in page and "0 refunds waiting for an admin" in page
