"""An on_delivery campaign through the API: the draft's release model, success paying
RELEASE_AT_SUCCESS_BPS of the net at once, then pledge by pledge as backers confirm, time out,
or report a problem an admin releases or refunds. The ledger verifies and the statement's
identity holds after every step."""

from datetime import timedelta

from crowdfund.domain.clock import utcnow
from crowdfund.jobs.deliveries import sweep_deliveries
from crowdfund.payments import get_gateway
from crowdfund.services import reconciliation
from tests.api.conftest import error_of
from tests.delivery.conftest import (
    assert_books_ok,
    assert_identity,
    mail_to,
    on_delivery_campaign,
    sandbox_refunds,
    statement_of,
)
from tests.support.settlement import close

PRICE = 2500  # one unit of the tier, USD cents
NET = PRICE - PRICE * 500 // 10_000  # after the 5% platform fee: 2375
AT_SUCCESS = NET * 5000 // 10_000  # 1187
HELD = NET - AT_SUCCESS  # 1188


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()


def test_the_release_model_is_set_on_a_draft_and_shown(make, api):
    founder = make.user(name="Founder")
    firm = make.firm(owner=founder)
    token = api.token_for(founder)
    draft = {
        "firm_id": firm.id,
        "kind": "reward",
        "title": "Kettle",
        "summary": "It boils.",
        "category": "design",
        "currency": "USD",
        "goal": 5000,
    }
    made = ok(api.post("/projects", {**draft, "release_model": "on_delivery"}, token=token), 201)
    assert made["release_model"] == "on_delivery"
    assert ok(api.get(f"/projects/{made['id']}", token=token))["release_model"] == "on_delivery"
    assert (
        ok(api.patch(f"/projects/{made['id']}", {"release_model": "at_success"}, token=token))["release_model"]
        == "at_success"
    )
    plain = ok(api.post("/projects", draft, token=token), 201)
    assert plain["release_model"] == "at_success"

    wrong = api.patch(f"/projects/{made['id']}", {"release_model": "someday"}, token=token)
    assert wrong.status_code == 422 and "release_model" in error_of(wrong)["fields"]
    equity = api.post(
        "/projects",
        {**draft, "kind": "equity", "title": "Shares", "release_model": "on_delivery"},
        token=token,
    )
    assert equity.status_code == 422 and "release_model" in error_of(equity)["fields"]


def test_success_pays_part_at_once_and_the_rest_pledge_by_pledge(app, db, make, api):
    project, pledges = on_delivery_campaign(make, backers=4)
    founder = make.founder_of(project)
    backers = [p.backer for p in pledges]
    ids = [p.id for p in pledges]
    close(db, project)
    assert_books_ok(db)

    # At success: RELEASE_AT_SUCCESS_BPS of each pledge's net to the firm, the rest held.
    data = statement_of(db, project)
    assert data["held_for_delivery"] == 4 * HELD
    assert data["paid_out"] + data["awaiting_payout"] == 4 * AT_SUCCESS
    assert data["fee"] == 4 * (PRICE - NET)
    assert data["in_escrow"] == 0
    assert_identity(data)

    founder_token = api.token_for(founder)
    listed = ok(api.get(f"/projects/{project.id}/deliveries", token=founder_token))["items"]
    assert {line["pledge_id"] for line in listed} == set(ids)
    assert {line["status"] for line in listed} == {"awaiting_shipment"}

    # The founder ships three of them; their backers are mailed the tracking number.
    shipment = ok(
        api.post(
            f"/projects/{project.id}/shipments",
            {"pledge_ids": ids[:3], "carrier": "Royal Mail", "tracking": "RM123456789GB"},
            token=founder_token,
        ),
        201,
    )
    assert shipment["pledge_ids"] == sorted(ids[:3])
    assert mail_to(db, backers[0], "RM123456789GB")
    assert not mail_to(db, backers[3], "RM123456789GB")
    again = api.post(
        f"/projects/{project.id}/shipments",
        {"pledge_ids": [ids[0]], "carrier": "Royal Mail", "tracking": "X"},
        token=founder_token,
    )
    assert again.status_code == 422 and "pledge_ids" in error_of(again)["fields"]
    blank = api.post(
        f"/projects/{project.id}/shipments",
        {"pledge_ids": [ids[3]], "carrier": " ", "tracking": "X"},
        token=founder_token,
    )
    assert blank.status_code == 422 and "carrier" in error_of(blank)["fields"]
    stranger = api.post(
        f"/projects/{project.id}/shipments",
        {"pledge_ids": [ids[3]], "carrier": "DHL", "tracking": "1"},
        token=api.token_for(backers[3]),
    )
    assert stranger.status_code == 403
    assert_books_ok(db)

    # Backer 0 confirms: their remainder is released to the firm.
    token0 = api.token_for(backers[0])
    seen = ok(api.get(f"/pledges/{ids[0]}", token=token0))
    assert seen["delivery"]["status"] == "shipped" and seen["delivery"]["tracking"] == "RM123456789GB"
    confirmed = ok(api.post(f"/pledges/{ids[0]}/confirm-receipt", token=token0))
    assert confirmed["delivery"]["status"] == "released"
    ok(api.post(f"/pledges/{ids[0]}/confirm-receipt", token=token0))  # again: harmless
    assert api.post(f"/pledges/{ids[1]}/confirm-receipt", token=token0).status_code == 404  # not theirs
    data = statement_of(db, project)
    assert data["held_for_delivery"] == 3 * HELD
    assert data["paid_out"] + data["awaiting_payout"] == 4 * AT_SUCCESS + HELD
    assert_identity(data)
    assert_books_ok(db)

    # Backer 1 reports a problem (the admins are mailed); an admin releases it to the firm.
    admin = make.admin()
    admin_token = api.token_for(admin)
    token1 = api.token_for(backers[1])
    empty = api.post(f"/pledges/{ids[1]}/report-problem", {"reason": "   "}, token=token1)
    assert empty.status_code == 422 and "reason" in error_of(empty)["fields"]
    problem = ok(api.post(f"/pledges/{ids[1]}/report-problem", {"reason": "The box was empty."}, token=token1))
    assert problem["delivery"]["status"] == "problem"
    assert mail_to(db, admin, "The box was empty.")
    ok(api.post(f"/admin/pledges/{ids[1]}/delivery/release", token=admin_token))
    assert api.post(f"/admin/pledges/{ids[1]}/delivery/release", token=admin_token).status_code == 409
    assert_books_ok(db)

    # Backer 2 reports a problem; an admin refunds the held remainder through the processor.
    token2 = api.token_for(backers[2])
    ok(api.post(f"/pledges/{ids[2]}/report-problem", {"reason": "Broken in transit."}, token=token2))
    refunded = ok(api.post(f"/admin/pledges/{ids[2]}/delivery/refund", token=admin_token))
    assert refunded["delivery"]["status"] in ("refunding", "refunded")
    db.session.expire_all()
    assert ok(api.get(f"/pledges/{ids[2]}", token=token2))["delivery"]["status"] == "refunded"
    assert sandbox_refunds(db) == [HELD]
    assert mail_to(db, backers[2], "refunded")
    late = api.post(f"/pledges/{ids[2]}/confirm-receipt", token=token2)
    assert late.status_code == 409 and error_of(late)["code"] == "delivery_refunded"
    data = statement_of(db, project)
    assert data["refunded"] == HELD
    assert data["held_for_delivery"] == HELD  # backer 3's, not shipped yet
    assert_identity(data)
    assert_books_ok(db)

    # Backer 3's reward ships and nobody answers: after DELIVERY_CONFIRM_DAYS it counts as received.
    ok(
        api.post(
            f"/projects/{project.id}/shipments",
            {"pledge_ids": [ids[3]], "carrier": "DHL", "tracking": "JD0001"},
            token=founder_token,
        ),
        201,
    )
    assert sweep_deliveries((utcnow() + timedelta(days=1)).isoformat())["timed_out"] == 0
    later = utcnow() + timedelta(days=app.config["DELIVERY_CONFIRM_DAYS"], hours=1)
    done = sweep_deliveries(later.isoformat())
    assert done["timed_out"] == 1
    assert done["paid_out"] == 1  # the day's batch of released remainders
    data = statement_of(db, project)
    assert data["held_for_delivery"] == 0
    assert data["awaiting_payout"] == 0
    assert data["paid_out"] == 4 * AT_SUCCESS + 3 * HELD
    assert_identity(data)
    assert_books_ok(db)
    assert sweep_deliveries((later + timedelta(days=2)).isoformat())["paid_out"] == 0  # nothing new
    # The processor's books agree: the partial refund and the delivery payout are ours.
    assert reconciliation.differences(get_gateway().activity()) == []
