"""Download my data: one JSON file of everything we hold about the person, and no secret."""

import json
import re

from sqlalchemy import select

from crowdfund.models import ApiToken, User
from tests.accounts.helpers import ADDRESS, pledge, shipping_campaign
from tests.api.conftest import Api
from tests.conftest import csrf_token
from tests.support.factories import PASSWORD


def download(client):
    response = client.get("/account/data.json")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/json"
    assert re.fullmatch(r'attachment; filename="crowdfund-my-data-\d+\.json"', response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def test_a_person_signed_out_gets_nothing(client, db):
    response = client.get("/account/data.json")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_the_file_holds_the_profile_pledges_tokens_sessions_and_mail(client, make, login, db):
    backer = make.user(name="Ada Lovelace", email="ada@example.com")
    project = shipping_campaign(make, db)
    held = pledge(db, backer, project, quantity=2, shipping_address=ADDRESS)
    raw_token = (
        Api(client)
        .post("/tokens", {"email": backer.email, "password": PASSWORD, "label": "my laptop"})
        .get_json()["token"]
    )
    login(backer)
    # An email change: a mail to the new address with a one-time link in it.
    client.post(
        "/account/email",
        data={"email": "ada@newmail.example", "password": PASSWORD, "csrf_token": csrf_token(client, "/account")},
    )
    text = download(client)
    data = json.loads(text)

    assert data["profile"]["name"] == "Ada Lovelace" and data["profile"]["email"] == "ada@newmail.example"
    assert data["profile"]["id"] == backer.id and data["profile"]["created_at"].endswith("Z")
    [row] = data["pledges"]
    assert row["id"] == held.id and row["status"] == "held" and row["currency"] == "USD"
    assert (row["amount"], row["reward_amount"], row["shipping_fee"], row["quantity"]) == (5500, 5000, 500, 2)
    assert row["shipping_address"] == ADDRESS and row["reward"] == "A boxed lamp"
    assert row["project"] == {"id": project.id, "title": project.title, "slug": project.slug}
    [token] = data["api_tokens"]
    assert token["label"] == "my laptop" and token["revoked_at"] is None
    assert len(data["sessions"]) == 1 and data["sessions"][0]["ended_at"] is None
    [verify_mail] = [m for m in data["mail"] if "/account/verify/" in m["body"]]
    assert "/account/verify/[removed]" in verify_mail["body"]

    # No secret of any kind.
    stored = db.session.get(User, backer.id)
    token_hash = db.session.scalar(select(ApiToken.token_hash).where(ApiToken.user_id == backer.id))
    for secret in (
        PASSWORD,
        stored.password_hash,
        raw_token,
        token_hash,
        "password_hash",
        "token_hash",
        "key_digest",
        "client_secret",
    ):
        assert secret not in text, secret
    assert not re.search(r"/account/verify/[A-Za-z0-9_\-.]{20,}", text)


def test_the_file_holds_firms_projects_and_the_investor_profile(client, make, login, db):
    from tests.support.builders import investor

    founder = make.user(name="Fay Founder")
    firm = make.firm(owner=founder, legal_name="Lantern Workshop Ltd")
    project = make.project(firm=firm, title="Brass desk lamp")
    investor(make, db, user=founder, currency="USD", income=8_000_000, net_worth=20_000_000)
    login(founder)
    data = json.loads(download(client))
    assert [(f["legal_name"], f["role"]) for f in data["firms"]] == [("Lantern Workshop Ltd", "owner")]
    assert [(p["id"], p["title"], p["status"]) for p in data["projects_founded"]] == [
        (project.id, "Brass desk lamp", "draft")
    ]
    assert data["investor_profile"]["annual_income"] == 8_000_000
    assert data["investor_profile"]["net_worth"] == 20_000_000
    assert data["pledges"] == [] and data["holdings"] == []
