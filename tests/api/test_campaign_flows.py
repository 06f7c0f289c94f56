"""A reward and an equity campaign, from registration to the deadline, through the API alone
(plus the operator's `flask users create-admin` and `flask campaigns close-due`).

Both campaigns are launched with a deadline a few seconds away (CAMPAIGN_MIN_DURATION is
shrunk to 1 s), so one short wait covers both. Settlement happens after closing (the
settlement work); what is asserted here holds before and after it.
"""

import io
import time
from datetime import datetime, timedelta, timezone

from crowdfund import ledger
from crowdfund.services import accounts
from tests.api.conftest import error_of
from tests.support.factories import PASSWORD, PDF_BYTES, PNG_BYTES, enrol_two_factor, next_number, otp_for
from tests.support.mail_links import verify_by_mail

RUN_SECONDS = 2  # from launch to deadline: time enough for the pledges below, even on a busy machine


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()


def register(api, name):
    email = f"{name.lower()}{next_number()}@example.com"
    ok(api.post("/users", {"email": email, "password": PASSWORD, "name": name, "accept_terms": True}), 201)
    verify_by_mail(api.client, email)  # the link in the mail: until then no pledge and no submission
    return ok(api.post("/tokens", {"email": email, "password": PASSWORD}), 201)["token"]


def upload(api, token, project_id, kind, content, filename, content_type):
    return api.post(
        f"/projects/{project_id}/documents",
        token=token,
        data={"kind": kind, "file": (io.BytesIO(content), filename, content_type)},
        content_type="multipart/form-data",
    )


def iso(moment):
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def test_reward_and_equity_campaigns_from_registration_to_the_deadline(app, db, api, monkeypatch):
    monkeypatch.setitem(app.config, "CAMPAIGN_MIN_DURATION", 1)
    monkeypatch.setitem(app.config, "EQUITY_CAMPAIGN_MIN_DURATION", 1)
    monkeypatch.setitem(app.config, "EQUITY_CANCEL_CUTOFF", 0)
    runner = app.test_cli_runner()
    year = datetime.now(timezone.utc).year + 1

    # --- the founder: account, token, firm --------------------------------------------------
    founder = register(api, "Founder")
    firm = ok(
        api.post(
            "/firms",
            {
                "name": "Teapot Works Ltd",
                "registration_number": "07654321",
                "country": "GB",
                "address": "1 Kiln Lane, Stoke",
            },
            token=founder,
        ),
        201,
    )
    assert firm["name"] == "Teapot Works Ltd" and firm["payout_account"] is None
    payouts = ok(api.post(f"/firms/{firm['id']}/payout-account", token=founder), 201)
    assert payouts["status"] == "verified"  # the sandbox's onboarding, SANDBOX_ACCOUNTS_VERIFY=instant

    # --- a reward project -------------------------------------------------------------------
    reward = ok(
        api.post(
            "/projects",
            {
                "firm_id": firm["id"],
                "kind": "reward",
                "title": "The Everyday Teapot",
                "summary": "A teapot that pours.",
                "category": "design",
                "currency": "GBP",
                "goal": 5000,
            },
            token=founder,
        ),
        201,
    )
    assert (reward["status"], reward["goal"], reward["currency"]) == ("draft", 5000, "GBP")
    missing = api.post(f"/projects/{reward['id']}/submit", token=founder)
    assert missing.status_code == 422
    assert error_of(missing)["code"] == "incomplete"
    assert set(error_of(missing)["fields"]) == {"description", "risks", "use_of_funds", "tiers"}
    ok(
        api.patch(
            f"/projects/{reward['id']}",
            {
                "description": "Stoneware, glazed by hand.",
                "risks": "The kiln may crack.",
                "use_of_funds": "Moulds and the first firing.",
            },
            token=founder,
        )
    )
    tier = ok(
        api.post(
            f"/projects/{reward['id']}/tiers",
            {
                "title": "One teapot",
                "price": 2500,
                "quantity": 3,
                "per_backer_limit": 2,
                "estimated_delivery": f"{year}-03",
                "shipping": "domestic",
                "shipping_fee": 500,
            },
            token=founder,
        ),
        201,
    )
    assert (tier["price"], tier["quantity"], tier["remaining"], tier["shipping_fee"]) == (2500, 3, 3, 500)
    cover = ok(upload(api, founder, reward["id"], "cover", PNG_BYTES, "teapot.png", "image/png"), 201)
    assert (cover["kind"], cover["filename"]) == ("cover", "teapot.png")
    assert ok(api.post(f"/projects/{reward['id']}/submit", token=founder))["status"] == "in_review"

    # --- an equity project ------------------------------------------------------------------
    equity = ok(
        api.post(
            "/projects",
            {
                "firm_id": firm["id"],
                "kind": "equity",
                "title": "Teapot Works shares",
                "summary": "Own a kiln.",
                "description": "We are growing.",
                "risks": "You may lose it all.",
                "use_of_funds": "A second kiln.",
                "category": "design",
                "currency": "GBP",
                "goal": 500_000,
                "equity": {
                    "price_per_share": 1000,
                    "shares_offered": 1000,
                    "min_shares": 5,
                    "pre_money_valuation": 10_000_000,
                    "shares_outstanding": 10_000,
                },
            },
            token=founder,
        ),
        201,
    )
    assert equity["equity"]["shares_remaining"] == 1000
    for kind in ("business_plan", "financial_statements"):
        ok(upload(api, founder, equity["id"], kind, PDF_BYTES, f"{kind}.pdf", "application/pdf"), 201)
    assert ok(api.post(f"/projects/{equity['id']}/submit", token=founder))["status"] == "in_review"

    # --- review: an admin made by the operator ----------------------------------------------
    result = runner.invoke(args=["users", "create-admin", "reviewer@example.com", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    # Until it has two-factor sign-in (ADMIN_2FA_REQUIRED), the admin may not act; then its token needs the code.
    bare = ok(api.post("/tokens", {"email": "reviewer@example.com", "password": PASSWORD}), 201)["token"]
    refused = api.post(f"/admin/projects/{reward['id']}/review", {"decision": "approve"}, token=bare)
    assert refused.status_code == 403 and error_of(refused)["code"] == "two_factor_required"
    reviewer = accounts.find_by_email("reviewer@example.com")
    enrol_two_factor(reviewer)
    db.session.commit()
    assert error_of(api.post("/tokens", {"email": reviewer.email, "password": PASSWORD}))["code"] == "otp_required"
    admin = ok(api.post("/tokens", {"email": reviewer.email, "password": PASSWORD, "otp": otp_for(reviewer)}), 201)[
        "token"
    ]
    assert api.post(f"/admin/projects/{reward['id']}/review", {"decision": "approve"}, token=founder).status_code == 403
    unticked = api.post(
        f"/admin/projects/{reward['id']}/review",
        {"decision": "approve", "risk_grade": "B", "checklist": {"identity_verified": True}},
        token=admin,
    )
    assert unticked.status_code == 422
    assert set(error_of(unticked)["fields"]) == {
        "checklist",
        "checklist.registration_valid",
        "checklist.rewards_feasible",
        "checklist.risks_disclosed",
    }
    checks = {"identity_verified": True, "registration_valid": True, "risks_disclosed": True}
    assert (
        ok(
            api.post(
                f"/admin/projects/{reward['id']}/review",
                {
                    "decision": "approve",
                    "risk_grade": "B",
                    "note": "Fine.",
                    "checklist": {**checks, "rewards_feasible": True},
                },
                token=admin,
            )
        )["status"]
        == "approved"
    )
    assert (
        ok(
            api.post(
                f"/admin/projects/{equity['id']}/review",
                {"decision": "approve", "risk_grade": "C", "checklist": {**checks, "financials_present": True}},
                token=admin,
            )
        )["status"]
        == "approved"
    )

    # --- backers get ready before the clock starts --------------------------------------------
    alice, bob, carol, dan = (register(api, name) for name in ("Alice", "Bob", "Carol", "Dan"))
    profile = ok(
        api.put(
            "/me/investor-profile",
            {
                "currency": "GBP",
                "annual_income": 3_000_000,
                "net_worth": 2_000_000,
                "accredited": False,
                "other_investments_12m": 0,
                "risk_acknowledged": True,
            },
            token=dan,
        )
    )
    # The floor for a modest income: USD 2,500 (Reg CF), in GBP at the reference rate (0.7874 per dollar).
    assert profile["allowance"]["limit"] == 196_850

    # --- launch ------------------------------------------------------------------------------
    too_soon = api.post(
        f"/projects/{reward['id']}/launch",
        {"deadline": iso(datetime.now(timezone.utc) - timedelta(seconds=5))},
        token=founder,
    )
    assert too_soon.status_code == 422 and "deadline" in error_of(too_soon)["fields"]
    deadline = datetime.now(timezone.utc) + timedelta(seconds=RUN_SECONDS)
    for project in (reward, equity):
        launched = ok(api.post(f"/projects/{project['id']}/launch", {"deadline": iso(deadline)}, token=founder))
        assert launched["status"] == "live"
    listed = ok(api.get("/projects?status=live&sort=ending_soon"))
    assert {item["id"] for item in listed["items"]} == {reward["id"], equity["id"]}

    # --- pledges -----------------------------------------------------------------------------
    address = {"name": "Alice A", "line1": "2 Tea St", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB"}
    no_address = api.post(
        f"/projects/{reward['id']}/pledges",
        {"tier_id": tier["id"], "quantity": 2, "payment_method": "pm_card_visa"},
        token=alice,
    )
    assert no_address.status_code == 422 and "shipping_address.line1" in error_of(no_address)["fields"]
    first = api.post(
        f"/projects/{reward['id']}/pledges",
        {"tier_id": tier["id"], "quantity": 2, "payment_method": "pm_card_visa", "shipping_address": address},
        token=alice,
        headers={"Idempotency-Key": "alice-teapots-1"},
    )
    alice_pledge = ok(first, 201)
    assert (alice_pledge["status"], alice_pledge["amount"], alice_pledge["currency"]) == ("held", 5500, "GBP")
    replay = ok(
        api.post(
            f"/projects/{reward['id']}/pledges",
            {"tier_id": tier["id"], "quantity": 2, "payment_method": "pm_card_visa", "shipping_address": address},
            token=alice,
            headers={"Idempotency-Key": "alice-teapots-1"},
        ),
        201,
    )
    assert replay["id"] == alice_pledge["id"]  # the same attempt again: no second charge

    declined = api.post(
        f"/projects/{reward['id']}/pledges",
        {"tier_id": tier["id"], "payment_method": "pm_card_chargeDeclined", "shipping_address": address},
        token=bob,
    )
    assert declined.status_code == 402 and error_of(declined)["code"] == "card_declined"
    bob_pledge = ok(
        api.post(
            f"/projects/{reward['id']}/pledges",
            {"tier_id": tier["id"], "payment_method": "pm_card_visa", "shipping_address": address},
            token=bob,
        ),
        201,
    )
    sold_out = api.post(
        f"/projects/{reward['id']}/pledges",
        {"tier_id": tier["id"], "payment_method": "pm_card_visa", "shipping_address": address},
        token=carol,
    )
    assert sold_out.status_code == 409 and error_of(sold_out)["code"] == "sold_out"
    gift = ok(
        api.post(f"/projects/{reward['id']}/pledges", {"amount": 700, "payment_method": "pm_card_visa"}, token=carol),
        201,
    )
    assert ok(api.post(f"/pledges/{gift['id']}/cancel", token=carol))["status"] == "cancelled"

    over = api.post(
        f"/projects/{equity['id']}/pledges",
        {"shares": 300, "payment_method": "pm_card_visa", "acknowledge_risks": True},
        token=dan,
    )
    assert over.status_code == 422 and error_of(over)["code"] == "investment_limit_exceeded"
    no_profile = api.post(
        f"/projects/{equity['id']}/pledges", {"shares": 10, "payment_method": "pm_card_visa"}, token=carol
    )
    assert no_profile.status_code == 422 and error_of(no_profile)["code"] == "investor_profile_required"
    dan_pledge = ok(
        api.post(
            f"/projects/{equity['id']}/pledges",
            {"shares": 20, "payment_method": "pm_card_visa", "acknowledge_risks": True},
            token=dan,
        ),
        201,
    )
    assert (dan_pledge["status"], dan_pledge["amount"], dan_pledge["shares"]) == ("held", 20_000, 20)
    assert time.time() < deadline.timestamp(), "the pledges took longer than RUN_SECONDS; raise it"

    shown = ok(api.get(f"/projects/{reward['id']}"))
    assert (shown["pledged"], shown["backers"], shown["tiers"][0]["remaining"]) == (5500 + 3000, 2, 0)
    mine = ok(api.get("/me/pledges", token=carol))
    assert [(p["id"], p["status"]) for p in mine["items"]] == [(gift["id"], "cancelled")]

    # --- the deadline passes; the operator's job closes both ----------------------------------
    time.sleep(max(0.0, deadline.timestamp() - time.time()) + 0.05)
    late = api.post(f"/projects/{reward['id']}/pledges", {"amount": 100, "payment_method": "pm_card_visa"}, token=carol)
    assert late.status_code == 409 and error_of(late)["code"] == "project_not_live"
    result = runner.invoke(args=["campaigns", "close-due"])
    assert result.exit_code == 0 and "Closed 2 campaign(s)" in result.output, result.output

    assert ok(api.get(f"/projects/{reward['id']}"))["status"] == "successful"  # 85.00 of 50.00
    assert ok(api.get(f"/projects/{equity['id']}"))["status"] == "failed"  # 200.00 of 5,000.00
    assert ok(api.get(f"/pledges/{alice_pledge['id']}", token=alice))["status"] == "released"
    assert ok(api.get(f"/pledges/{bob_pledge['id']}", token=bob))["status"] == "released"
    assert ok(api.get(f"/pledges/{dan_pledge['id']}", token=dan))["status"] == "refunded"
    db.session.rollback()
    assert ledger.verify() == []

    statement = ok(api.get(f"/projects/{reward['id']}/statement", token=founder))
    assert statement["currency"] == "GBP"
    assert statement["gross"] == 5500 + 3000 + 700
    assert statement["cancelled"] == 700 and statement["refunded"] == 700
    fee = (5500 * 500 // 10_000) + (3000 * 500 // 10_000)  # 5%, rounded down per pledge
    assert statement["fee"] == fee and statement["in_escrow"] == 0 and statement["awaiting_payout"] == 0
    assert statement["paid_out"] == 5500 + 3000 - fee  # settled by close-due, paid to the firm
    assert statement["gross"] - statement["refunded"] == (
        statement["in_escrow"] + statement["fee"] + statement["paid_out"] + statement["awaiting_payout"]
    )
    assert api.get(f"/projects/{reward['id']}/statement", token=alice).status_code == 403
    assert ok(api.get("/me/holdings", token=dan)) == {"items": []}  # the offering failed: no shares
