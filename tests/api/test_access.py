"""Every endpoint, tried with another user's token and with none: nothing leaks, nothing changes.

The world: a founder's firm with a draft, a project in review, an approved one and a live
one; a backer with a held pledge and an investor profile. Each request below would succeed
for its rightful caller (the bodies are valid), so a missing check would show as a change
in the database or as the owners' data in a response.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowdfund.api.registry import OPERATIONS
from crowdfund.extensions import db as _db
from crowdfund.models import Comment, utcnow
from crowdfund.services import api_tokens, investors
from crowdfund.services.projects import add_ons
from tests.api.conftest import error_of
from tests.support.factories import PASSWORD, PNG_BYTES

SECRETS = (
    "owner.secret@example.com",
    "victim.secret@example.com",
    "Hidden Quokka Draft",
    "Hidden Wombat Review",
    "Secret Zebra Tier",
    "Vera Victim",
    "7654321",
    "99887766",
)
OWNER_COLUMNS = ("user_id", "backer_id", "uploaded_by_id", "created_by_id", "actor_id", "author_id", "reviewer_id")


@pytest.fixture()
def world(app, db, make, api):
    owner = make.user(email="owner.secret@example.com", name="Owner")
    firm = make.firm(owner=owner, registration_number="99887766")
    draft = make.project(firm=firm, title="Hidden Quokka Draft")
    make.tier(draft, title="Secret Zebra Tier")
    in_review = make.submitted_project(firm=firm, kind="equity", title="Hidden Wombat Review")
    approved = make.approved_project(firm=firm)
    live = make.live_project(firm=firm)
    victim = make.user(email="victim.secret@example.com", name="Vera Victim")
    investors.save_profile(
        victim,
        {
            "currency": "USD",
            "annual_income": 7654321,
            "net_worth": 7654321,
            "accredited": False,
            "other_investments_12m": 0,
            "risk_acknowledged": True,
        },
    )
    db.session.commit()
    victim_token = api.token_for(victim)
    pledge = api.post(
        f"/projects/{live.id}/pledges",
        {"tier_id": live.tiers[0].id, "payment_method": "pm_card_visa"},
        token=victim_token,
    )
    assert pledge.status_code == 201, pledge.get_json()
    intruder = make.user(email="intruder@example.com", name="Ivan Intruder")
    tokens = [api_tokens.issue_token(intruder.email, PASSWORD)[0] for _ in range(2)]
    quiet_firm = make.firm(owner=owner)  # no campaign with a public page: no public profile either
    mug = add_ons.add_add_on(owner, draft, {"title": "Hidden Koala Mug", "price": 700, "quantity": 5})
    note = Comment(project_id=draft.id, author_id=owner.id, body="Hidden Quokka Draft note", body_html="<p>x</p>")
    db.session.add(note)  # a comment where nobody else may see it
    db.session.commit()
    return {
        "owner": owner,
        "firm": firm,
        "draft": draft,
        "in_review": in_review,
        "approved": approved,
        "live": live,
        "victim": victim,
        "pledge_id": pledge.get_json()["id"],
        "intruder": intruder,
        "tokens": tokens,
        "quiet_firm": quiet_firm,
        "comment_id": note.id,
        "add_on_id": mug.id,
    }


def _tier_body():
    return {"title": "Extra", "price": 1000, "estimated_delivery": f"{utcnow().year + 1}-01"}


# endpoint -> (method, path, body, status with another user's token, status with no token)
# A status of "own" means the request acts on the caller's own account (allowed), never on others'.
def table(w):
    deadline = (utcnow() + timedelta(days=3)).isoformat()
    draft, review, approved, live = w["draft"].id, w["in_review"].id, w["approved"].id, w["live"].id
    pledge = w["pledge_id"]
    return {
        "create_user": (
            "POST",
            "/users",
            {"email": "owner.secret@example.com", "password": PASSWORD, "name": "X", "accept_terms": True},
            {409},
            {409},
        ),
        "create_token": (
            "POST",
            "/tokens",
            {"email": "owner.secret@example.com", "password": "not the password"},
            {401},
            {401},
        ),
        "revoke_token": ("DELETE", "/tokens/current", None, "own", {401}),
        "me": ("GET", "/me", None, "own", {401}),
        "create_firm": (
            "POST",
            "/firms",
            {"name": "Copycat Ltd", "registration_number": "99887766", "country": "GB", "address": "Elsewhere"},
            {409},
            {401},
        ),
        "get_firm": ("GET", f"/firms/{w['quiet_firm'].id}", None, {404}, {404}),
        "update_firm": ("PATCH", f"/firms/{w['firm'].id}", {"address": "Hijacked"}, {404}, {401}),
        "set_up_payout_account": ("POST", f"/firms/{w['firm'].id}/payout-account", None, {404}, {401}),
        "get_investor_profile": ("GET", "/me/investor-profile", None, {404}, {401}),
        "put_investor_profile": (
            "PUT",
            "/me/investor-profile",
            {
                "currency": "USD",
                "annual_income": 1,
                "net_worth": 1,
                "other_investments_12m": 0,
                "risk_acknowledged": True,
            },
            "own",
            {401},
        ),
        "my_holdings": ("GET", "/me/holdings", None, "own", {401}),
        "openapi_document": ("GET", "/openapi.json", None, {200}, {200}),
        "list_projects": ("GET", "/projects?status=draft", None, {200}, {200}),
        "get_project": ("GET", f"/projects/{draft}", None, {404}, {404}),
        "create_project": (
            "POST",
            "/projects",
            {
                "firm_id": w["firm"].id,
                "kind": "reward",
                "title": "Mine now",
                "summary": "x",
                "category": "design",
                "currency": "USD",
                "goal": 1000,
            },
            {403},
            {401},
        ),
        "update_project": ("PATCH", f"/projects/{draft}", {"title": "Hijacked"}, {404}, {401}),
        "add_tier": ("POST", f"/projects/{draft}/tiers", _tier_body(), {404}, {401}),
        "add_stretch_goal": ("POST", f"/projects/{draft}/stretch-goals", {"amount": 10**7, "title": "x"}, {404}, {401}),
        "list_stretch_goals": ("GET", f"/projects/{draft}/stretch-goals", None, {404}, {404}),
        "delete_stretch_goal": ("DELETE", f"/projects/{draft}/stretch-goals/1", None, {404}, {401}),
        "upload_document": ("POST", f"/projects/{draft}/documents", "cover", {404}, {401}),
        "submit_project": ("POST", f"/projects/{draft}/submit", None, {404}, {401}),
        "review_project": (
            "POST",
            f"/admin/projects/{review}/review",
            {"decision": "reject", "note": "No."},
            {403},
            {401},
        ),
        "launch_project": ("POST", f"/projects/{approved}/launch", {"deadline": deadline}, {404}, {401}),
        "close_early": ("POST", f"/projects/{live}/close-early", {"deadline": deadline}, {403}, {401}),
        "project_statement": ("GET", f"/projects/{live}/statement", None, {403}, {401}),
        "place_pledge": (
            "POST",
            f"/projects/{review}/pledges",
            {"shares": 10, "payment_method": "pm_card_visa"},
            {404},
            {401},
        ),
        "get_pledge": ("GET", f"/pledges/{pledge}", None, {404}, {401}),
        "my_pledges": ("GET", "/me/pledges", None, "own", {401}),
        "cancel_pledge": ("POST", f"/pledges/{pledge}/cancel", None, {404}, {401}),
        "list_comments": ("GET", f"/projects/{draft}/comments", None, {404}, {404}),
        "post_comment": ("POST", f"/projects/{draft}/comments", {"body": "Mine now"}, {404}, {401}),
        "report_comment": ("POST", f"/comments/{w['comment_id']}/report", {"reason": "x"}, {404}, {401}),
        "hide_comment": ("POST", f"/admin/comments/{w['comment_id']}/hide", {"reason": "x"}, {403}, {401}),
        # Story media, changes, updates and reminders (issue 21)
        "upload_story_image": ("POST", f"/projects/{draft}/images", "story_image", {404}, {401}),
        "list_story_images": ("GET", f"/projects/{draft}/images", None, {404}, {401}),
        "list_changes": ("GET", f"/projects/{draft}/changes", None, {404}, {404}),
        "list_updates": ("GET", f"/projects/{draft}/updates", None, {404}, {404}),
        "post_update": ("POST", f"/projects/{live}/updates", {"title": "Hijacked", "body": "x"}, {403}, {401}),
        "set_reminder": ("PUT", f"/projects/{draft}/reminder", None, {404}, {401}),
        "cancel_reminder": ("DELETE", f"/projects/{draft}/reminder", None, {404}, {401}),
        "get_choices": ("GET", "/account/notifications", None, "own", {401}),
        "change_choices": ("PATCH", "/account/notifications", {"campaign_reminders": False}, "own", {401}),
        # Backing (issue 23)
        "add_add_on": (
            "POST",
            f"/projects/{draft}/add-ons",
            {"title": "x", "description": "y", "price": 100, "quantity": 5},
            {404},
            {401},
        ),
        "update_add_on": ("PATCH", f"/add-ons/{w['add_on_id']}", {"title": "Hijacked"}, {404}, {401}),
        "change_pledge": ("PATCH", f"/pledges/{pledge}", {"quantity": 2}, {404}, {401}),
        # Investor protection (issue 24)
        "get_investor_checks": ("GET", "/me/investor-checks", None, "own", {401}),
        "take_knowledge_test": (
            "POST",
            "/me/knowledge-test",
            {"answers": dict.fromkeys(("q1", "q2", "q3", "q4", "q5"), "a")},
            "own",
            {401},
        ),
        "record_loss_simulation": (
            "POST",
            "/me/loss-simulation",
            {"net_worth": 100000, "currency": "USD", "acknowledge": True},
            "own",
            {401},
        ),
        "post_qualification": ("POST", "/me/qualification", "qualification", {409}, {401}),
        "get_qualification": ("GET", "/me/qualification", None, {404}, {401}),
        "mark_material_change": ("POST", f"/projects/{live}/material-change", {"description": "x"}, {403}, {401}),
        "reconfirm_pledge": ("POST", f"/pledges/{pledge}/reconfirm", None, {404}, {401}),
        # Release on delivery (issue 26)
        "record_shipment": (
            "POST",
            f"/projects/{live}/shipments",
            {"pledge_ids": [pledge], "carrier": "x", "tracking": "y"},
            {403},
            {401},
        ),
        "list_deliveries": ("GET", f"/projects/{live}/deliveries", None, {403}, {401}),
        "confirm_receipt": ("POST", f"/pledges/{pledge}/confirm-receipt", None, {404}, {401}),
        "report_problem": ("POST", f"/pledges/{pledge}/report-problem", {"reason": "x"}, {404}, {401}),
        "admin_release": ("POST", f"/admin/pledges/{pledge}/delivery/release", None, {403}, {401}),
        "admin_refund": ("POST", f"/admin/pledges/{pledge}/delivery/refund", None, {403}, {401}),
        "refund_unshipped": ("POST", f"/admin/projects/{live}/refund-unshipped", None, {403}, {401}),
    }


def snapshot(intruder_id):
    """Every row of every table, except the intruder's own rows."""
    rows = {}
    for table in _db.metadata.sorted_tables:
        owned = [c for c in table.columns if c.name in OWNER_COLUMNS]
        kept = set()
        for row in _db.session.execute(select(table)).mappings():
            if table.name == "users" and row["id"] == intruder_id:
                continue
            if any(row[c.name] == intruder_id for c in owned if c.name in ("user_id", "backer_id")):
                continue
            kept.add(tuple(sorted((k, repr(v)) for k, v in row.items())))
        rows[table.name] = kept
    _db.session.commit()
    return rows


def send(api, method, path, body, token):
    if body == "cover":
        import io

        return api.call(
            method,
            path,
            token=token,
            content_type="multipart/form-data",
            data={"kind": "cover", "file": (io.BytesIO(PNG_BYTES), "c.png", "image/png")},
        )
    if body == "story_image":
        import io

        return api.call(
            method,
            path,
            token=token,
            content_type="multipart/form-data",
            data={"file": (io.BytesIO(PNG_BYTES), "s.png", "image/png")},
        )
    if body == "qualification":
        import io

        return api.call(
            method,
            path,
            token=token,
            content_type="multipart/form-data",
            data={"basis": "annual_income", "amount": "100", "file": (io.BytesIO(PNG_BYTES), "q.png", "image/png")},
        )
    return api.call(method, path, json=body, token=token)


def test_the_table_covers_every_endpoint(world):
    assert set(table(world)) == {op.endpoint.split(".", 1)[1] for op in OPERATIONS}


@pytest.mark.parametrize("who", ["intruder", "anonymous"])
def test_no_leak_and_no_action_with_another_users_token_or_none(world, api, who):
    intruder_id = world["intruder"].id
    before = snapshot(intruder_id)
    token, spare = world["tokens"]
    for endpoint, (method, path, body, as_intruder, as_nobody) in table(world).items():
        caller = None if who == "anonymous" else (spare if endpoint == "revoke_token" else token)
        expected = as_nobody if who == "anonymous" else as_intruder
        response = send(api, method, path, body, caller)
        text = response.get_data(as_text=True)
        if expected == "own":
            assert response.status_code < 300, (endpoint, response.status_code, text)
        else:
            assert response.status_code in expected, (endpoint, response.status_code, text)
        if response.status_code >= 400:
            error_of(response)  # the API's error shape, always
        for secret in SECRETS:
            assert secret not in text, (endpoint, secret, text)
        assert snapshot(intruder_id) == before, f"{method} {path} changed someone else's data"
    # and the owners still have everything
    assert (
        api.get(f"/projects/{world['draft'].id}", token=api.token_for(world["owner"])).get_json()["title"]
        == "Hidden Quokka Draft"
    )


def test_a_revoked_or_expired_token_is_refused(world, api, db, app):
    token, spare = world["tokens"]
    assert api.get("/me", token=token).status_code == 200
    assert api.delete("/tokens/current", token=token).status_code == 204
    refused = api.get("/me", token=token)
    assert refused.status_code == 401 and error_of(refused)["code"] == "invalid_token"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    stored = api_tokens.find_token(spare)
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert api.get("/me", token=spare).status_code == 401
    assert api.get("/me", headers={"Authorization": "Basic b3duZXI6cGFzcw=="}).status_code == 401
