"""The founder's pages and the public project page."""

import html
import io
import re
from datetime import datetime, timedelta, timezone

from crowdfund.models import Project, ProjectDocument, RewardTier, utcnow
from tests.conftest import csrf_token
from tests.support.factories import PDF_BYTES, PNG_BYTES


def token(client):
    return csrf_token(client, "/projects/")


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
        "description": "Hand-picked **spring** tea.",
        "risks": "Weather.",
        "use_of_funds": "Tins and postage.",
        "csrf_token": token(client),
    }
    data.update(overrides)
    return data


def tier_form(client, **overrides):
    data = {
        "title": "A tin",
        "description": "100 g",
        "price": "88",
        "quantity": "2",
        "per_backer_limit": "",
        "estimated_delivery": f"{utcnow().year + 1}-05",
        "shipping": "domestic",
        "shipping_fee": "10",
        "available_from": "",
        "available_until": "",
        "csrf_token": token(client),
    }
    data.update(overrides)
    return data


def test_a_founder_creates_a_project_and_fills_it_in(client, make, login, db):
    owner = login(make.user())
    firm = make.firm(owner=owner)
    assert firm.legal_name in client.get("/projects/new").get_data(as_text=True)
    response = client.post("/projects/new", data=new_project_form(client, firm))
    assert response.status_code == 302
    project = db.session.query(Project).one()
    assert (project.status, project.goal, project.slug, project.firm_id) == ("draft", 2_000_000, "lantern-tea", firm.id)
    editor = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lantern Tea" in editor and "No rewards yet" in editor
    response = client.post(f"/projects/{project.id}/tiers/new", data=tier_form(client))
    assert response.status_code == 302
    tier = db.session.query(RewardTier).one()
    assert (tier.price, tier.quantity, tier.shipping_fee) == (8800, 2, 1000)
    response = client.post(f"/projects/{project.id}/tiers/{tier.id}/edit", data=tier_form(client, price="99.5"))
    assert response.status_code == 302
    db.session.refresh(tier)
    assert tier.price == 9950
    response = client.post(
        f"/projects/{project.id}/edit", data=new_project_form(client, firm, title="Lantern Tea", goal="30000.5")
    )
    assert response.status_code == 302
    db.session.refresh(project)
    assert project.goal == 3_000_050
    listing = client.get("/projects/").get_data(as_text=True)
    assert "Lantern Tea" in listing and "Draft" in listing


def test_the_new_project_form_offers_only_the_users_firms(client, make, login, db):
    owner = login(make.user())
    mine = make.firm(owner=owner)
    theirs = make.firm()
    page = client.get("/projects/new").get_data(as_text=True)
    assert mine.legal_name in page and theirs.legal_name not in page
    response = client.post("/projects/new", data=new_project_form(client, theirs))
    assert response.status_code == 422
    assert db.session.query(Project).count() == 0


def test_a_person_without_a_firm_is_sent_to_register_one(client, make, login):
    login(make.user())
    response = client.get("/projects/new")
    assert response.status_code == 302 and response.headers["Location"].endswith("/firms/new")


def test_form_mistakes_come_back_on_the_form(client, make, login, db):
    owner = login(make.user())
    project = make.project(firm=make.firm(owner=owner), complete=False)
    response = client.post(f"/projects/{project.id}/tiers/new", data=tier_form(client, price="12.345"))
    assert response.status_code == 422
    assert "USD amounts have at most 2 decimal places." in response.get_data(as_text=True)
    response = client.post(f"/projects/{project.id}/tiers/new", data=tier_form(client, shipping="none"))
    assert response.status_code == 422
    assert "There is no shipping fee when nothing is shipped." in response.get_data(as_text=True)
    assert db.session.query(RewardTier).count() == 0


def test_tiers_are_removed_while_allowed(client, make, login, db):
    owner = login(make.user())
    project = make.project(firm=make.firm(owner=owner))
    tier = project.tiers[0]
    response = client.post(f"/projects/{project.id}/tiers/{tier.id}/delete", data={"csrf_token": token(client)})
    assert response.status_code == 302
    assert db.session.query(RewardTier).count() == 0


def test_after_approval_the_editor_only_changes_the_story(client, make, login, db):
    owner = login(make.user())
    project = make.approved_project(firm=make.firm(owner=owner))
    page = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert "title, goal, currency and terms are locked" in page
    assert 'name="goal"' not in page
    response = client.post(
        f"/projects/{project.id}/edit",
        data={
            "summary": "Better summary.",
            "description": "New *story*.",
            "risks": "Rain.",
            "use_of_funds": "Tins.",
            "goal": "1",
            "csrf_token": token(client),
        },
    )
    assert response.status_code == 302
    db.session.refresh(project)
    assert (project.summary, project.goal) == ("Better summary.", 500000)


def test_equity_terms_and_documents_through_the_editor(client, make, login, db):
    owner = login(make.user())
    project = make.project(firm=make.firm(owner=owner), kind="equity", complete=False, goal="5000")
    response = client.post(
        f"/projects/{project.id}/equity",
        data={
            "security_type": "ordinary_shares",
            "price_per_share": "2",
            "shares_offered": "5000",
            "min_shares": "10",
            "pre_money_valuation": "200000",
            "shares_outstanding": "100000",
            "csrf_token": token(client),
        },
    )
    assert response.status_code == 302
    assert project.equity.price_per_share == 200
    response = client.post(
        f"/projects/{project.id}/documents",
        data={
            "kind": "business_plan",
            "file": (io.BytesIO(PDF_BYTES), "plan.pdf", "application/pdf"),
            "csrf_token": token(client),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    fake = client.post(
        f"/projects/{project.id}/documents",
        data={
            "kind": "financial_statements",
            "file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "accounts.pdf", "application/pdf"),
            "csrf_token": token(client),
        },
        content_type="multipart/form-data",
    )
    assert fake.status_code == 422
    assert "not really a PDF file" in fake.get_data(as_text=True)
    assert [d.kind for d in db.session.query(ProjectDocument)] == ["business_plan"]
    checklist = client.get(f"/projects/{project.id}/submit").get_data(as_text=True)
    assert "Upload the financial statements (PDF)." in checklist
    assert "Upload the business plan" not in checklist


EQUITY_REQUIRED = {
    "price_per_share": "Enter the price per share.",
    "shares_offered": "Enter how many shares are offered.",
    "min_shares": "Enter the minimum investment in shares.",
    "pre_money_valuation": "Enter the pre-money valuation.",
    "shares_outstanding": "Enter the number of shares that exist before the offering.",
}


def equity_terms(project):
    offering = project.equity
    return (
        offering.security_type,
        offering.price_per_share,
        offering.shares_offered,
        offering.min_shares,
        offering.pre_money_valuation,
        offering.shares_outstanding,
    )


def test_equity_terms_missing_from_the_post_are_refused_not_kept(client, make, login, db):
    owner = login(make.user())
    project = make.project(firm=make.firm(owner=owner), kind="equity")
    before = equity_terms(project)
    for data in ({}, {"price_per_share": "20"}, {key: "" for key in EQUITY_REQUIRED}):
        response = client.post(f"/projects/{project.id}/equity", data={**data, "csrf_token": token(client)})
        assert response.status_code == 422, data
        page = response.get_data(as_text=True)
        assert "The equity terms are saved." not in page
        for key, message in EQUITY_REQUIRED.items():
            assert (message in page) == (key not in data or not data[key]), (data, message)
        db.session.expire_all()
        assert equity_terms(project) == before
    response = client.post(f"/projects/{project.id}/equity", data={"csrf_token": token(client)})
    assert "Only ordinary shares can be offered." in response.get_data(as_text=True)  # the security, too


def test_a_reward_edit_with_fields_missing_changes_nothing(client, make, login, db):
    owner = login(make.user())
    project = make.project(firm=make.firm(owner=owner), complete=False)
    tier = make.tier(project, shipping="domestic", shipping_fee="10")
    before = (tier.title, tier.price, tier.estimated_delivery, tier.shipping, tier.shipping_fee, tier.quantity)
    assert 'value="Early bird"' in client.get(f"/projects/{project.id}/tiers/{tier.id}/edit").get_data(as_text=True)
    response = client.post(f"/projects/{project.id}/tiers/{tier.id}/edit", data={"csrf_token": token(client)})
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    for message in (
        "Give the reward a title.",
        "Enter the reward's price.",
        "Enter the month you expect to deliver (YYYY-MM).",
        "Choose no shipping, domestic or worldwide.",
    ):
        assert message in page, message
    data = tier_form(client, shipping_fee="")
    del data["shipping"]  # would otherwise fall back to "none", quietly
    response = client.post(f"/projects/{project.id}/tiers/{tier.id}/edit", data=data)
    assert response.status_code == 422
    assert "Choose no shipping, domestic or worldwide." in response.get_data(as_text=True)
    db.session.expire_all()
    tier = db.session.get(RewardTier, tier.id)
    assert (tier.title, tier.price, tier.estimated_delivery, tier.shipping, tier.shipping_fee, tier.quantity) == before


def test_the_submission_checklist_and_submitting(client, make, login, db):
    owner = login(make.user())
    project = make.project(firm=make.firm(owner=owner), complete=False, risks="")
    page = client.get(f"/projects/{project.id}/submit").get_data(as_text=True)
    assert "Add at least one reward tier." in page and "Describe the risks and challenges." in page
    response = client.post(f"/projects/{project.id}/submit", data={"csrf_token": token(client)})
    assert response.status_code == 422
    assert "not ready for review yet" in response.get_data(as_text=True)
    assert db.session.get(Project, project.id).status == "draft"
    make.tier(project)
    client.post(
        f"/projects/{project.id}/edit",
        data={
            "title": project.title,
            "summary": project.summary,
            "category": "design",
            "currency": "USD",
            "goal": "5000",
            "duration_days": "",
            "description": "d",
            "risks": "Rain.",
            "use_of_funds": "u",
            "csrf_token": token(client),
        },
    )
    response = client.post(f"/projects/{project.id}/submit", data={"csrf_token": token(client)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, project.id).status == "in_review"
    assert "being reviewed" in client.get(f"/projects/{project.id}/edit").get_data(as_text=True)


def test_the_founder_sees_the_reviewers_note(client, make, login, db):
    from crowdfund.services import reviews

    owner = login(make.user())
    project = make.submitted_project(firm=make.firm(owner=owner))
    reviews.review_project(make.admin(), project, "request_changes", note="Please add photos of the tins.")
    db.session.commit()
    for path in (f"/projects/{project.id}/edit", f"/p/{project.slug}"):
        page = client.get(path).get_data(as_text=True)
        assert "Please add photos of the tins." in page and "asks for changes" in page


def test_launch_reads_the_deadline_in_the_viewers_time_zone(client, make, login, db):
    owner = login(make.user())
    project = make.approved_project(firm=make.firm(owner=owner))
    client.set_cookie("tz", "Asia/Shanghai")
    local = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=10)).replace(second=0, microsecond=0)
    page = client.get(f"/projects/{project.id}/launch").get_data(as_text=True)
    assert 'type="datetime-local"' in page
    response = client.post(
        f"/projects/{project.id}/launch",
        data={"deadline": local.strftime("%Y-%m-%dT%H:%M"), "csrf_token": token(client)},
    )
    assert response.status_code == 302
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert project.status == "live"
    assert project.deadline == local.astimezone(timezone.utc)
    assert project.deadline.hour == (local.hour - 8) % 24


def test_launch_outside_the_window_is_explained(client, make, login, db):
    owner = login(make.user())
    project = make.approved_project(firm=make.firm(owner=owner))
    too_late = (utcnow() + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/projects/{project.id}/launch", data={"deadline": too_late, "csrf_token": token(client)})
    assert response.status_code == 422
    assert "too far away: a campaign runs at most 60 days" in response.get_data(as_text=True)
    assert db.session.get(Project, project.id).status == "approved"


def test_a_launch_without_a_deadline_is_refused(client, make, login, db):
    owner = login(make.user())
    project = make.approved_project(firm=make.firm(owner=owner))
    assert 'name="deadline"' in client.get(f"/projects/{project.id}/launch").get_data(as_text=True)
    response = client.post(f"/projects/{project.id}/launch", data={"csrf_token": token(client)})
    assert response.status_code == 422  # not launched with the deadline the form suggests
    assert "Choose the deadline." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Project, project.id).status == "approved"


def test_the_founder_cancels_a_live_campaign(client, make, login, db):
    owner = login(make.user())
    project = make.live_project(firm=make.firm(owner=owner))
    response = client.post(f"/projects/{project.id}/cancel", data={"note": "", "csrf_token": token(client)})
    assert response.status_code == 422
    response = client.post(
        f"/projects/{project.id}/cancel", data={"note": "Supplier closed.", "csrf_token": token(client)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, project.id).status == "cancelled"


def test_nobody_else_sees_or_edits_a_draft(client, make, login, db):
    project = make.project(description="secret plans")
    login(make.user())
    for path in (
        f"/projects/{project.id}/edit",
        f"/p/{project.slug}",
        f"/projects/{project.id}/submit",
        f"/projects/{project.id}/tiers/new",
        f"/projects/{project.id}/launch",
    ):
        assert client.get(path).status_code == 404, path
    response = client.post(
        f"/projects/{project.id}/edit",
        data={
            "title": "Stolen",
            "summary": "x",
            "category": "design",
            "currency": "USD",
            "goal": "1",
            "csrf_token": token(client),
        },
    )
    assert response.status_code == 404
    tier = project.tiers[0]
    assert (
        client.post(f"/projects/{project.id}/tiers/{tier.id}/delete", data={"csrf_token": token(client)}).status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get(Project, project.id).title != "Stolen"
    assert db.session.query(RewardTier).count() == 1


def test_anonymous_visitors_see_live_projects_only(client, make, db):
    draft = make.project()
    live = make.live_project()
    assert client.get(f"/p/{draft.slug}").status_code == 404
    assert client.get(f"/p/{live.slug}").status_code == 200
    assert client.get(f"/projects/{draft.id}/edit").status_code == 302  # to the login page
    home = client.get("/").get_data(as_text=True)
    assert live.title in home and draft.title not in home


def test_the_public_page_shows_what_a_backer_needs(client, make, db):
    project = make.live_project(goal="1000", risk_grade="D", description="<script>steal()</script>**Great** tea")
    sold_out = make.tier(project, title="Collector box", quantity="5")
    make.document(project, "cover")
    project.pledged_amount, project.backer_count, sold_out.sold = 25_000, 7, 5  # pledges are another feature
    db.session.commit()
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    for expected in (
        project.title,
        project.firm.legal_name,
        "<strong>Great</strong> tea",
        "$250.00",
        "$1,000.00",
        ">25%<",
        'value="25"',
        "Backers",
        ">7<",
        ">D<",
        "Sold out",
        "Early bird",
        "100 of 100 left",
        "Time left",
        " days<",
        "Risks and challenges",
        "Suppliers may be late.",
    ):
        assert expected in page, expected
    assert "<script>steal" not in page
    cover = re.search(r'src="(/p/[^"]+/files/\d+)"', page).group(1)
    image = client.get(cover)
    assert image.status_code == 200 and image.data == PNG_BYTES and image.mimetype == "image/png"


def test_an_equity_page_shows_the_offering(client, make, db):
    project = make.live_project(kind="equity")
    project.equity.shares_committed = 250
    db.session.commit()
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Shares remaining" in page and "750" in page and "$10.00" in page and "Business plan" in page
    plan = next(d for d in project.documents if d.kind == "business_plan")
    response = client.get(f"/p/{project.slug}/files/{plan.id}")
    assert response.status_code == 200 and response.data == PDF_BYTES
    assert response.headers["Content-Disposition"].startswith("attachment")


def test_documents_of_a_draft_are_private(client, make, login, db):
    project = make.project(kind="equity")
    plan = project.documents[0]
    assert client.get(f"/p/{project.slug}/files/{plan.id}").status_code == 404
    login(make.founder_of(project))
    assert client.get(f"/p/{project.slug}/files/{plan.id}").status_code == 200
