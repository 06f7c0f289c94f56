"""Pledges through the API: idempotency, declines, cancellation, the investor profile,
and the money statement and share register contracts."""

import pytest
from sqlalchemy import func, select

from crowdfund.models import Pledge, SandboxOperation, ShareHolding
from tests.api.conftest import error_of


def charges(db):
    return db.session.scalar(
        select(func.count()).select_from(SandboxOperation).where(SandboxOperation.kind == "charge")
    )


@pytest.fixture()
def live(make):
    return make.live_project()


def test_the_idempotency_key_makes_a_retry_safe(api, make, db, live):
    token = api.token_for(make.user())
    body = {"tier_id": live.tiers[0].id, "payment_method": "pm_card_visa"}
    first = api.post(f"/projects/{live.id}/pledges", body, token=token, headers={"Idempotency-Key": "retry-me-123"})
    second = api.post(f"/projects/{live.id}/pledges", body, token=token, headers={"Idempotency-Key": "retry-me-123"})
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert charges(db) == 1
    other = make.live_project()
    reused = api.post(
        f"/projects/{other.id}/pledges",
        {"tier_id": other.tiers[0].id, "payment_method": "pm_card_visa"},
        token=token,
        headers={"Idempotency-Key": "retry-me-123"},
    )
    assert reused.status_code == 409 and error_of(reused)["code"] == "idempotency_key_reused"
    # without the header, each request is a new attempt
    api.post(f"/projects/{live.id}/pledges", body, token=token)
    api.post(f"/projects/{live.id}/pledges", body, token=token)
    assert charges(db) == 3
    short = api.post(f"/projects/{live.id}/pledges", body, token=token, headers={"Idempotency-Key": "abc"})
    assert short.status_code == 422


def test_a_declined_card_and_its_replay(api, make, db, live):
    token = api.token_for(make.user())
    body = {"tier_id": live.tiers[0].id, "payment_method": "pm_card_insufficientFunds"}
    declined = api.post(f"/projects/{live.id}/pledges", body, token=token, headers={"Idempotency-Key": "broke-12345"})
    error = error_of(declined)
    assert declined.status_code == 402
    assert (error["code"], error["decline_code"]) == ("card_declined", "insufficient_funds")
    assert error["message"] == "Your card has insufficient funds."
    replay = api.post(f"/projects/{live.id}/pledges", body, token=token, headers={"Idempotency-Key": "broke-12345"})
    assert replay.status_code == 402 and error_of(replay)["decline_code"] == "insufficient_funds"
    assert charges(db) == 1
    failed = api.get("/me/pledges", token=token).get_json()["items"]
    assert [(p["status"], p["failure_code"]) for p in failed] == [("failed", "insufficient_funds")]


def test_not_live_and_hidden_projects(api, make):
    token = api.token_for(make.user())
    approved = make.approved_project()
    founder = api.token_for(make.founder_of(approved))
    body = {"amount": 1000, "payment_method": "pm_card_visa"}
    assert api.post(f"/projects/{approved.id}/pledges", body, token=token).status_code == 404  # not public
    own = api.post(f"/projects/{approved.id}/pledges", body, token=founder)  # visible to its firm: not live
    assert own.status_code == 409 and error_of(own)["code"] == "project_not_live"


def test_cancel_and_who_may_see_a_pledge(api, make, live):
    backer, admin = make.user(), make.admin()
    token = api.token_for(backer)
    pledge = api.post(
        f"/projects/{live.id}/pledges", {"amount": 1500, "payment_method": "pm_card_visa"}, token=token
    ).get_json()
    assert pledge["status"] == "held" and pledge["tier_id"] is None and pledge["quantity"] == 1
    admin_token = api.token_for(admin)
    assert api.get(f"/pledges/{pledge['id']}", token=admin_token).get_json() == pledge
    not_yours = api.post(f"/pledges/{pledge['id']}/cancel", token=admin_token)
    assert not_yours.status_code == 403 and error_of(not_yours)["code"] == "not_your_pledge"
    cancelled = api.post(f"/pledges/{pledge['id']}/cancel", token=token)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert api.post(f"/pledges/{pledge['id']}/cancel", token=token).get_json()["status"] == "cancelled"
    assert api.get(f"/projects/{live.id}").get_json()["pledged"] == 0


def test_investor_profile(api, make):
    token = api.token_for(make.user())
    assert api.get("/me/investor-profile", token=token).status_code == 404
    unconfirmed = api.put(
        "/me/investor-profile",
        {
            "currency": "USD",
            "annual_income": 10_000_000,
            "net_worth": 50_000_000,
            "other_investments_12m": 0,
            "risk_acknowledged": False,
        },
        token=token,
    )
    assert unconfirmed.status_code == 422 and "risk_acknowledged" in error_of(unconfirmed)["fields"]
    saved = api.put(
        "/me/investor-profile",
        {
            "currency": "USD",
            "annual_income": 10_000_000,
            "net_worth": 50_000_000,
            "other_investments_12m": 100_000,
            "risk_acknowledged": True,
        },
        token=token,
    ).get_json()
    # $100,000 income, $500,000 net worth: 5% of the greater is $25,000; $1,000 already elsewhere
    assert saved["allowance"] == {
        "limit": 2_500_000,
        "committed": 100_000,
        "remaining": 2_400_000,
        "rates_as_of": None,
    }  # all in dollars: nothing converted
    assert api.get("/me/investor-profile", token=token).get_json() == saved


# --- contracts of crowdfund.services.statements.statement / holdings_of ---------------------
# These two tests assert only the contract the API relies on (keys, integer amounts, the
# money identity, register entries listed for their holder), so they pass with the
# temporary settlement module of this branch and with the real one that replaces it.

STATEMENT_KEYS = {
    "project_id",
    "gross",
    "cancelled",
    "refunded",
    "fee",
    "paid_out",
    "awaiting_payout",
    "in_escrow",
    "currency",
    "processor_fees",
    "processor_fees_firm",
    "reserved",
    "refunds_owed",
    "disputed",
    "held_for_delivery",  # release on delivery (issue 26)
}
STATEMENT_TIMES = {"reserved_until", "payout_due_at"}  # ISO 8601, or null


def test_statement_contract(api, make, live):
    """Keys, integer amounts and the identity gross - refunded = in_escrow + fee + paid_out + awaiting_payout,
    where refunded is all money returned (cancellations included)."""
    founder = api.token_for(make.founder_of(live))
    backer = api.token_for(make.user())
    kept = api.post(
        f"/projects/{live.id}/pledges", {"amount": 4000, "payment_method": "pm_card_visa"}, token=backer
    ).get_json()
    dropped = api.post(
        f"/projects/{live.id}/pledges", {"amount": 1000, "payment_method": "pm_card_visa"}, token=backer
    ).get_json()
    api.post(f"/pledges/{dropped['id']}/cancel", token=backer)
    statement = api.get(f"/projects/{live.id}/statement", token=founder).get_json()
    extras = {"processor_fees_paid_by", "funding_model", "goal_met", "custodian"}
    assert set(statement) == STATEMENT_KEYS | STATEMENT_TIMES | extras
    assert statement["reserved_until"] is None and statement["payout_due_at"] is None  # live: no payout yet
    assert statement["processor_fees_paid_by"] == "platform" and statement["processor_fees"] > 0
    assert all(type(statement[key]) is int for key in STATEMENT_KEYS - {"currency"})
    assert statement["currency"] == "USD" and statement["project_id"] == live.id
    assert (statement["gross"], statement["cancelled"], statement["refunded"]) == (5000, 1000, 1000)
    assert statement["in_escrow"] == kept["amount"]
    assert statement["gross"] - statement["refunded"] == (
        statement["in_escrow"]
        + statement["fee"]
        + statement["processor_fees_firm"]
        + statement["paid_out"]
        + statement["awaiting_payout"]
    )
    admin = api.token_for(make.admin())
    assert api.get(f"/projects/{live.id}/statement", token=admin).status_code == 200
    assert api.get(f"/projects/{live.id}/statement", token=backer).status_code == 403


def test_holdings_contract(api, make, db):
    """An entry on the share register is listed for its holder only."""
    live = make.live_project(kind="equity")
    investor = make.user()
    token = api.token_for(investor)
    api.put(
        "/me/investor-profile",
        {
            "currency": "USD",
            "annual_income": 0,
            "net_worth": 0,
            "accredited": True,
            "other_investments_12m": 0,
            "risk_acknowledged": True,
        },
        token=token,
    )
    pledge = api.post(
        f"/projects/{live.id}/pledges",
        {"shares": 7, "payment_method": "pm_card_visa", "acknowledge_risks": True},
        token=token,
    ).get_json()
    assert api.get("/me/holdings", token=token).get_json() == {"items": []}
    db.session.add(
        ShareHolding(
            user_id=investor.id,
            firm_id=live.firm_id,
            project_id=live.id,
            pledge_id=pledge["id"],
            shares=7,
            price_per_share=1000,
            currency="USD",
        )
    )
    db.session.commit()
    items = api.get("/me/holdings", token=token).get_json()["items"]
    assert len(items) == 1
    assert {k: v for k, v in items[0].items() if k != "acquired_at"} == {
        "firm_id": live.firm_id,
        "project_id": live.id,
        "shares": 7,
        "price_per_share": 1000,
        "currency": "USD",
    }
    assert items[0]["acquired_at"].endswith("Z")
    assert api.get("/me/holdings", token=api.token_for(make.user())).get_json() == {"items": []}
    assert db.session.get(Pledge, pledge["id"]).shares == 7
