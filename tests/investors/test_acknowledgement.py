"""Each equity commitment acknowledged on its own; receipts say until when it may be cancelled."""

import re
from datetime import timedelta

from sqlalchemy import select

from crowdfund import ledger
from crowdfund.models import OutboxMessage, Pledge
from tests.api.conftest import error_of
from tests.support.builders import charges, investor, live_equity_project, live_reward_project


def iso(moment):
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def test_the_api_refuses_a_commitment_without_the_acknowledgement(api, make, db):
    project = live_equity_project(make, db)
    token = api.token_for(investor(make, db))
    for body in ({"shares": 10}, {"shares": 10, "acknowledge_risks": False}):
        refused = api.post(f"/projects/{project.id}/pledges", {**body, "payment_method": "pm_card_visa"}, token=token)
        assert refused.status_code == 422
        error = error_of(refused)
        assert error["code"] == "risks_not_acknowledged" and "acknowledge_risks" in error["fields"]
        assert "lose all the money" in error["fields"]["acknowledge_risks"]
    assert db.session.query(Pledge).count() == 0 and charges(db) == 0

    placed = api.post(
        f"/projects/{project.id}/pledges",
        {"shares": 10, "acknowledge_risks": True, "payment_method": "pm_card_visa"},
        token=token,
    )
    assert placed.status_code == 201
    body = placed.get_json()
    assert body["risks_acknowledged_at"] is not None
    assert body["cancel_until"] == iso(project.deadline - timedelta(hours=48))
    assert ledger.verify() == []


def test_a_reward_pledge_needs_no_acknowledgement(api, make, db):
    project = live_reward_project(make, db)
    token = api.token_for(make.user())
    placed = api.post(
        f"/projects/{project.id}/pledges",
        {"tier_id": project.tiers[0].id, "payment_method": "pm_card_visa"},
        token=token,
    )
    assert placed.status_code == 201
    assert placed.get_json()["cancel_until"] is None and placed.get_json()["risks_acknowledged_at"] is None


def test_the_openapi_document_describes_the_field(api):
    document = api.get("/openapi.json").get_json()
    create = document["paths"]["/projects/{project_id}/pledges"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["acknowledge_risks"]["type"] == "boolean"
    assert "risks_not_acknowledged" in schema["properties"]["acknowledge_risks"]["description"]
    assert "/projects/{project_id}/close-early" in document["paths"]


def form_data(page, **fields):
    text = page.get_data(as_text=True)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', text).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text).group(1)
    return {"csrf_token": token, "idempotency_key": key, "payment_method": "pm_card_visa", **fields}


def test_the_form_asks_for_each_commitment_and_the_receipt_says_until_when(client, login, make, db):
    project = live_equity_project(make, db, min_shares=1)
    backer = login(investor(make, db))
    back = f"/p/{project.slug}/back"
    page = client.get(back)
    assert "I understand that I may lose all the money I invest in this offering" in page.get_data(as_text=True)

    refused = client.post(back, data=form_data(page, shares="10"))
    assert refused.status_code == 422
    assert "Please confirm, for this investment" in refused.get_data(as_text=True)
    assert charges(db) == 0

    placed = client.post(back, data=form_data(refused, shares="10", acknowledge_risks="y"))
    assert placed.status_code == 302
    receipt = client.get(placed.headers["Location"]).get_data(as_text=True)
    assert "You may cancel until" in receipt and 'data-testid="cancel-until"' in receipt

    pledge = db.session.scalar(select(Pledge))
    assert pledge.risks_acknowledged_at is not None
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"pledge_receipt:{pledge.id}"))
    assert mail.to_address == backer.email
    assert "You may cancel this commitment until" in mail.body_text
    until = project.deadline - timedelta(hours=48)
    assert str(until.year) in mail.body_text.split("You may cancel this commitment until", 1)[1]
    assert ledger.verify() == []
