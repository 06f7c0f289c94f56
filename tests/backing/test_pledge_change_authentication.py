"""A larger pledge whose new total the backer must confirm with their bank (3-D Secure) or wallet:
the change waits (202 with a next action, the pledge as it was), and the return page, the
webhooks or `resume_changes` finish it as they finish a new pledge's payment.

The sandbox stands in for the bank: its page (`next_action.url`) has the buttons.
"""

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from crowdfund.models import (
    OutboxMessage,
    Pledge,
    PledgeChange,
    RewardTier,
    SandboxOperation,
    SandboxWebhookEvent,
    utcnow,
)
from crowdfund.payments import get_gateway
from crowdfund.services import reconciliation
from crowdfund.workflows.pledge_change import resume_changes
from tests.api.conftest import error_of
from tests.backing.conftest import books_agree
from tests.conftest import csrf_token
from tests.support import factories

THREE_DS = "pm_card_threeDSecure2Required"


@pytest.fixture()
def story(api, client, make, login, live, db):
    """A backer signed in on the web and holding an API token, their pledge held on a cheaper
    tier, and a better tier with room for one."""
    better = make.tier(live, title="Deluxe", price="90", quantity="1")
    backer = login(make.user())
    token = api.token_for(backer)
    placed = api.post(
        f"/projects/{live.id}/pledges", {"payment_method": "pm_card_visa", "tier_id": live.tiers[0].id}, token=token
    )
    assert placed.status_code == 201, placed.get_json()
    return {"backer": backer, "token": token, "pledge": placed.get_json(), "better": better}


def upgrade(api, story, method=THREE_DS):
    pledge = story["pledge"]
    return api.patch(
        f"/pledges/{pledge['id']}", {"tier_id": story["better"].id, "payment_method": method}, token=story["token"]
    )


def fresh(db, model, key):
    db.session.rollback()
    return db.session.get(model, key, populate_existing=True)


def the_change(db, pledge_id):
    db.session.rollback()
    return db.session.scalars(select(PledgeChange).where(PledgeChange.pledge_id == pledge_id)).one()


def sold(db, tier):
    return fresh(db, RewardTier, tier.id).sold


def refunded(db):
    return db.session.scalars(select(SandboxOperation.amount).where(SandboxOperation.kind == "refund")).all()


def books_match_the_processor(live):
    books_agree(live.id)
    assert reconciliation.differences(get_gateway().activity()) == []


def act(client, url, outcome):
    """The backer on the bank's (the sandbox's) page presses a button."""
    return client.post(urlsplit(url).path, data={"outcome": outcome})


def deliver(client, sandbox, db, ref, event_type):
    """The processor delivers (again) its event of `event_type` about the payment `ref`."""
    db.session.rollback()
    payload = next(
        row.payload
        for row in db.session.scalars(select(SandboxWebhookEvent).where(SandboxWebhookEvent.type == event_type))
        if row.payload["data"]["object"]["id"] == ref
    )
    body = json.dumps({**payload, "id": f"{payload['id']}-again-{utcnow().timestamp()}"}).encode()
    answer = client.post(
        "/webhooks/sandbox",
        data=body,
        content_type="application/json",
        headers={"Sandbox-Signature": sandbox.sign(body)},
    )
    assert answer.status_code == 200, answer.get_json()


def test_an_upgrade_that_needs_the_bank_waits_then_applies_on_the_return_page(
    api, client, app, db, live, story, monkeypatch
):
    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOKS", False)  # the return page alone finishes it
    pledge, better = story["pledge"], story["better"]
    answer = upgrade(api, story)
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    assert (body["id"], body["status"], body["amount"], body["tier_id"]) == (
        pledge["id"],
        "held",
        pledge["amount"],
        pledge["tier_id"],
    )
    change = body["change"]
    assert (change["number"], change["status"]) == (1, "requires_action")
    assert change["next_action"]["type"] == "redirect_to_url" and "/sandbox/pay/" in change["next_action"]["url"]
    assert change["client_secret"] is None  # a Stripe-only field
    assert sold(db, better) == 1  # the new tier's unit is kept for the backer meanwhile
    books_match_the_processor(live)  # nothing moved yet
    # Another change meanwhile is refused, the waiting one named.
    other = api.patch(f"/pledges/{pledge['id']}", {"quantity": 2}, token=story["token"])
    assert other.status_code == 409 and error_of(other)["code"] == "busy"

    back = act(client, change["next_action"]["url"], "succeed")
    path = urlsplit(back.headers["Location"]).path
    assert path == f"/pledges/{pledge['id']}/changes/1/return"
    assert the_change(db, pledge["id"]).status == "requires_action"  # nobody has looked yet
    receipt = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert "Your pledge is changed. It is now" in receipt

    shown = api.get(f"/pledges/{pledge['id']}", token=story["token"]).get_json()
    assert (shown["status"], shown["tier_id"], shown["amount"]) == ("held", better.id, 9000)
    assert refunded(db) == [pledge["amount"]]  # the earlier charge went back in full
    held = fresh(db, Pledge, pledge["id"])
    assert fresh(db, SandboxOperation, held.charge_ref).amount == 9000
    assert the_change(db, pledge["id"]).status == "done"
    books_match_the_processor(live)
    # Looking again changes nothing more.
    client.get(path)
    assert refunded(db) == [pledge["amount"]]


def test_a_failed_authentication_leaves_the_pledge_and_gives_the_unit_back(api, client, db, live, story):
    pledge, better = story["pledge"], story["better"]
    change = upgrade(api, story).get_json()["change"]
    back = act(client, change["next_action"]["url"], "fail")
    page = client.get(urlsplit(back.headers["Location"]).path, follow_redirects=True).get_data(as_text=True)
    assert "Your pledge was not changed" in page
    ended = the_change(db, pledge["id"])
    assert (ended.status, ended.failure_code) == ("failed", "authentication_failed")
    shown = api.get(f"/pledges/{pledge['id']}", token=story["token"]).get_json()
    assert (shown["tier_id"], shown["amount"]) == (pledge["tier_id"], pledge["amount"])
    assert sold(db, better) == 0 and refunded(db) == []
    books_match_the_processor(live)
    # The pledge can change again.
    assert upgrade(api, story, method="pm_card_visa").status_code == 200


def test_the_webhook_first_then_twice_then_the_return_page_apply_the_change_once(api, client, db, live, story, sandbox):
    pledge = story["pledge"]
    change = upgrade(api, story).get_json()["change"]
    back = act(client, change["next_action"]["url"], "succeed")  # its webhook is delivered after this request
    changed = the_change(db, pledge["id"])
    assert changed.status == "done"
    deliver(client, sandbox, db, changed.charge_ref, "payment_intent.succeeded")
    deliver(client, sandbox, db, changed.charge_ref, "payment_intent.succeeded")
    deliver(client, sandbox, db, changed.charge_ref, "payment_intent.requires_action")  # late and out of order
    receipt = client.get(urlsplit(back.headers["Location"]).path, follow_redirects=True).get_data(as_text=True)
    assert "Your pledge is changed. It is now" in receipt
    assert refunded(db) == [pledge["amount"]]
    assert fresh(db, Pledge, pledge["id"]).amount == 9000
    books_match_the_processor(live)


def test_an_abandoned_change_is_cancelled_by_resume_and_the_backer_told(api, client, app, db, live, story):
    pledge, better = story["pledge"], story["better"]
    change = upgrade(api, story).get_json()["change"]
    resume_changes(0)  # before the timeout it only looks: the backer may still be at their bank
    assert the_change(db, pledge["id"]).status == "requires_action" and sold(db, better) == 1
    later = utcnow() + timedelta(seconds=app.config["PLEDGE_ACTION_TIMEOUT"] + 1)
    resume_changes(0, now=later)
    ended = the_change(db, pledge["id"])
    assert (ended.status, ended.failure_code) == ("failed", "action_expired")
    assert fresh(db, SandboxOperation, ended.charge_ref).status == "canceled"  # the bank page can take nothing
    assert sold(db, better) == 0
    act(client, change["next_action"]["url"], "succeed")  # too late
    shown = api.get(f"/pledges/{pledge['id']}", token=story["token"]).get_json()
    assert (shown["tier_id"], shown["amount"]) == (pledge["tier_id"], pledge["amount"])
    subjects = db.session.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.to_address == story["backer"].email)
    ).all()
    assert any("was not made" in subject for subject in subjects)
    books_match_the_processor(live)


def test_the_change_page_sends_the_backer_to_their_bank_and_back(client, db, live, story):
    pledge, better = story["pledge"], story["better"]
    path = f"/pledges/{pledge['id']}/change"
    fields = {
        "csrf_token": csrf_token(client, path),
        "idempotency_key": "web-attempt-123456",
        "tier_id": str(better.id),
        "quantity": "1",
        "payment_method": THREE_DS,
    }
    to_bank = client.post(path, data=fields)
    assert to_bank.status_code == 303 and "/sandbox/pay/" in to_bank.headers["Location"]
    return_path = f"/pledges/{pledge['id']}/changes/1/return"
    assert return_path in client.get(path).get_data(as_text=True)  # the change page says it waits
    waiting = client.get(return_path)
    assert waiting.status_code == 200
    assert "is not confirmed yet" in waiting.get_data(as_text=True)
    assert urlsplit(to_bank.headers["Location"]).path in waiting.get_data(as_text=True)  # back to the bank
    back = act(client, to_bank.headers["Location"], "succeed")
    assert urlsplit(back.headers["Location"]).path == return_path
    receipt = client.get(return_path, follow_redirects=True).get_data(as_text=True)
    assert "Your pledge is changed. It is now" in receipt
    held = fresh(db, Pledge, pledge["id"])
    assert (held.tier_id, held.amount) == (better.id, 9000)
    books_match_the_processor(live)


def test_only_the_backer_sees_the_return_page(api, app, client, make, story):
    upgrade(api, story)
    return_path = f"/pledges/{story['pledge']['id']}/changes/1/return"
    stranger, other = make.user(), app.test_client()
    signed_in = other.post(
        "/account/login",
        data={
            "email": stranger.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token(other, "/account/login"),
        },
    )
    assert signed_in.status_code == 302
    assert other.get(return_path).status_code == 404
    assert other.get(f"/pledges/{story['pledge']['id']}/changes/2/return").status_code == 404
    assert client.get(f"/pledges/{story['pledge']['id']}/changes/2/return").status_code == 404  # no such change


@pytest.mark.postgres_only
def test_the_webhook_the_return_page_and_resume_at_the_same_moment_apply_the_change_once(
    api, app, db, live, story, sandbox, monkeypatch
):
    from crowdfund.workflows import pledge_change
    from tests.support.builders import race

    monkeypatch.setitem(app.config, "SANDBOX_WEBHOOKS", False)  # the three lookers are the test's own
    pledge = story["pledge"]
    upgrade(api, story)
    waiting = the_change(db, pledge["id"])
    sandbox.complete(waiting.charge_ref, succeed=True)  # the backer confirmed with their bank
    outcomes = race(app, 3, lambda i: pledge_change.check_change(waiting.id).change.status)
    assert set(outcomes) <= {"done", "refund_pending"}, outcomes
    assert the_change(db, pledge["id"]).status == "done"
    assert refunded(db) == [pledge["amount"]]
    assert fresh(db, Pledge, pledge["id"]).amount == 9000
    books_match_the_processor(live)
