"""Owner-only pages and actions, tried by someone else.

Every URL that belongs to a founder, a backer or an admin is opened (GET) and sent (POST,
with a valid CSRF token and plausible data) by another logged-in user, who also has a firm
and a project of their own. Each answer must be 403 or 404, and nothing in the database may
change. The owner opening the same GET pages gets 200, so the table cannot go stale.
"""

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from crowdfund.models import (
    EquityOffering,
    Firm,
    Pledge,
    Project,
    ProjectDocument,
    ProjectUpdate,
    Review,
    RewardTier,
    utcnow,
)
from crowdfund.services import updates
from crowdfund.workflows import checkout
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD, PDF_BYTES, VALID_USCC, pass_second_step


@pytest.fixture()
def world(make, db):
    """An owner's firm and projects in every state that has pages, a backer's pledge, and an intruder."""
    owner = make.user(name="Owner")
    firm = make.firm(owner=owner, country="CN", registration_number=VALID_USCC[0])
    draft = make.project(firm=firm, title="Owner draft")
    equity = make.project(firm=firm, kind="equity", title="Owner equity draft")
    approved = make.approved_project(firm=firm, title="Owner approved")
    live = make.live_project(firm=firm, title="Owner live")
    updates.post_update(owner, live, "Owner news", "Hello backers.")
    backer = make.user(name="Backer")
    pledge = checkout.place_pledge(
        backer,
        live,
        idempotency_key="access-test-pledge",
        payment_method="pm_card_visa",
        tier_id=live.tiers[0].id,
        quantity=1,
    )
    intruder = make.user(name="Intruder")
    make.project(firm=make.firm(owner=intruder), title="Intruder's own")
    db.session.commit()
    return {
        "owner": owner,
        "backer": backer,
        "intruder": intruder,
        "firm": firm,
        "draft": draft,
        "equity": equity,
        "approved": approved,
        "live": live,
        "tier": draft.tiers[0],
        "pledge": pledge,
        "document": next(d for d in equity.documents if d.kind == "business_plan"),
    }


def owner_urls(w):
    """(who owns it, method, url, form data) for every owner-only page and action."""
    d, e, a, live, tier = w["draft"], w["equity"], w["approved"], w["live"], w["tier"]
    later = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    tier_data = {"title": "Stolen", "price": "1", "estimated_delivery": f"{utcnow().year + 1}-01", "shipping": "none"}
    basics = {
        "title": "Stolen",
        "summary": "Stolen",
        "category": "food",
        "currency": "USD",
        "goal": "1",
        "description": "x",
        "risks": "x",
        "use_of_funds": "x",
    }
    firm = w["firm"]
    return [
        ("owner", "GET", f"/firms/{firm.id}/people", None),  # /firms/<id> is its public profile to others
        ("owner", "POST", f"/firms/{firm.id}/people", {"name": "Stolen Person"}),
        ("owner", "GET", f"/firms/{firm.id}/edit", None),
        (
            "owner",
            "POST",
            f"/firms/{firm.id}/edit",
            {"legal_name": "Stolen Ltd", "country": "CN", "registration_number": VALID_USCC[0], "address": "Elsewhere"},
        ),
        ("owner", "GET", f"/projects/{d.id}/edit", None),
        ("owner", "POST", f"/projects/{d.id}/edit", basics),
        ("owner", "GET", f"/projects/{d.id}/tiers/new", None),
        ("owner", "POST", f"/projects/{d.id}/tiers/new", tier_data),
        ("owner", "GET", f"/projects/{d.id}/tiers/{tier.id}/edit", None),
        ("owner", "POST", f"/projects/{d.id}/tiers/{tier.id}/edit", tier_data),
        ("owner", "POST", f"/projects/{d.id}/tiers/{tier.id}/delete", {}),
        ("owner", "GET", f"/projects/{e.id}/equity", None),
        (
            "owner",
            "POST",
            f"/projects/{e.id}/equity",
            {
                "security_type": "ordinary_shares",
                "price_per_share": "1",
                "shares_offered": "100000",
                "min_shares": "1",
                "pre_money_valuation": "100000",
                "shares_outstanding": "100000",
            },
        ),
        (
            "owner",
            "POST",
            f"/projects/{e.id}/documents",
            {"kind": "business_plan", "file": (io.BytesIO(PDF_BYTES), "x.pdf", "application/pdf")},
        ),
        ("owner", "GET", f"/projects/{d.id}/submit", None),
        ("owner", "POST", f"/projects/{d.id}/submit", {}),
        ("owner", "GET", f"/projects/{a.id}/launch", None),
        ("owner", "POST", f"/projects/{a.id}/launch", {"deadline": later}),
        ("owner", "GET", f"/projects/{live.id}/cancel", None),
        ("owner", "POST", f"/projects/{live.id}/cancel", {"note": "Gone."}),
        ("owner", "GET", f"/projects/{live.id}/dashboard", None),
        ("owner", "GET", f"/projects/{live.id}/backers.csv", None),
        ("owner", "GET", f"/projects/{live.id}/updates/new", None),
        ("owner", "POST", f"/projects/{live.id}/updates/new", {"title": "Fake news", "body": "Send money here."}),
        ("owner", "GET", f"/p/{d.slug}", None),  # a draft is nobody else's business
        ("owner", "GET", f"/p/{e.slug}/files/{w['document'].id}", None),
        ("backer", "GET", f"/pledges/{w['pledge'].id}", None),
        ("backer", "POST", f"/pledges/{w['pledge'].id}/cancel", {"next": "/me/pledges"}),
        ("admin", "GET", "/admin/reviews", None),
        ("admin", "GET", f"/admin/reviews/{d.id}", None),
        ("admin", "POST", f"/admin/reviews/{d.id}", {"decision": "reject", "note": "No."}),
        ("admin", "GET", "/admin/campaigns", None),
        ("admin", "GET", f"/admin/campaigns/{live.id}/suspend", None),
        ("admin", "POST", f"/admin/campaigns/{live.id}/suspend", {"note": "Stopped."}),
        ("admin", "GET", "/admin/users", None),
    ]


def snapshot(db):
    """Everything these actions could change."""
    db.session.expire_all()

    def rows(model, *cols):
        return sorted(tuple(getattr(r, c) for c in cols) for r in db.session.scalars(select(model)))

    return {
        "firms": rows(Firm, "id", "legal_name", "address", "registration_number"),
        "projects": rows(Project, "id", "status", "title", "summary", "goal", "deadline", "pledged_amount"),
        "tiers": rows(RewardTier, "id", "title", "price", "sold"),
        "equity": rows(EquityOffering, "id", "price_per_share", "shares_offered"),
        "documents": rows(ProjectDocument, "id"),
        "updates": rows(ProjectUpdate, "id", "title"),
        "reviews": rows(Review, "id", "decision"),
        "pledges": rows(Pledge, "id", "status", "amount"),
    }


def log_in(client, user):
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/account/login")})
    response = client.post(
        "/account/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/account/login")},
    )
    assert response.status_code == 302
    if response.headers["Location"].endswith("/account/2fa/verify"):  # an admin: the code too
        pass_second_step(client, user)


def test_nobody_else_can_see_or_touch_owner_only_pages(client, make, db, world):
    table = owner_urls(world)
    admin = make.admin()
    owners = {"owner": world["owner"], "backer": world["backer"], "admin": admin}
    for role in owners:  # the table is right: each owner can open their pages
        log_in(client, owners[role])
        for who, method, url, _ in table:
            if who == role and method == "GET":
                assert client.get(url).status_code == 200, (role, url)

    log_in(client, world["intruder"])
    token = csrf_token(client, "/projects/")
    before = snapshot(db)
    for _who, method, url, data in table:
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={**data, "csrf_token": token}, content_type="multipart/form-data")
        assert response.status_code in (403, 404), (method, url, response.status_code)
        assert snapshot(db) == before, (method, url)
    assert "Owner" not in client.get("/projects/").get_data(as_text=True)
    assert "Owner" not in client.get("/me/pledges").get_data(as_text=True)
    assert "Owner" not in client.get("/firms/").get_data(as_text=True)
    profile = client.get(f"/firms/{world['firm'].id}").get_data(as_text=True)  # public: the firm has a live campaign
    assert world["firm"].legal_name in profile and "acct_" not in profile and "Payouts" not in profile


def test_anonymous_visitors_are_sent_to_log_in_and_change_nothing(client, db, world):
    before = snapshot(db)
    for _who, method, url, data in owner_urls(world):
        if url.startswith("/p/"):
            continue  # public addresses: checked above (404 for a draft)
        response = client.get(url) if method == "GET" else client.post(url, data=data or {})
        # GET: to the login page; POST: refused (no CSRF token) or to the login page.
        assert response.status_code in (302, 400, 401, 403), (method, url, response.status_code)
        if response.status_code == 302:
            assert "/account/login" in response.headers["Location"], url
    assert snapshot(db) == before
