"""Pledges through the API and the web form when the backer must complete the payment
(3-D Secure, Alipay, WeChat Pay): 202 with a next action, then the outcome on GET."""

from urllib.parse import urlsplit

import pytest

from crowdfund import ledger
from crowdfund.models import Pledge
from tests.pledges.test_web import form_fields


@pytest.fixture()
def live(make):
    return make.live_project()


@pytest.mark.parametrize(
    "method, action",
    [
        ("pm_card_threeDSecure2Required", "redirect_to_url"),
        ("pm_alipay", "redirect_to_url"),
        ("pm_wechat_pay", "wechat_pay_display_qr_code"),
    ],
)
def test_the_api_answers_202_with_the_next_action_then_shows_the_outcome(api, client, make, db, live, method, action):
    token = api.token_for(make.user())
    body = {"tier_id": live.tiers[0].id, "payment_method": method}
    answer = api.post(f"/projects/{live.id}/pledges", body, token=token, headers={"Idempotency-Key": "wallet-12345"})
    assert answer.status_code == 202
    pledge = answer.get_json()
    assert pledge["status"] == "requires_action"
    assert pledge["next_action"]["type"] == action and pledge["next_action"]["url"].startswith("http")
    assert pledge["client_secret"] is None  # a Stripe-only field
    replay = api.post(f"/projects/{live.id}/pledges", body, token=token, headers={"Idempotency-Key": "wallet-12345"})
    assert (replay.status_code, replay.get_json()["id"]) == (202, pledge["id"])
    assert api.get(f"/pledges/{pledge['id']}", token=token).get_json()["next_action"] == pledge["next_action"]
    client.post(urlsplit(pledge["next_action"]["url"]).path, data={"outcome": "succeed"})
    shown = api.get(f"/pledges/{pledge['id']}", token=token).get_json()
    assert (shown["status"], shown["next_action"], shown["client_secret"]) == ("held", None, None)
    assert ledger.verify() == []


def test_the_web_form_sends_the_backer_to_their_bank_and_back(client, make, login, db, live):
    login(make.user())
    data = form_fields(client, f"/p/{live.slug}/back")
    data.update(tier_id=str(live.tiers[0].id), quantity="1", payment_method="pm_card_threeDSecure2Required")
    to_bank = client.post(f"/p/{live.slug}/back", data=data)
    assert to_bank.status_code == 302 and "/sandbox/pay/" in to_bank.headers["Location"]
    pledge = db.session.query(Pledge).one()
    bank_page = client.get(urlsplit(to_bank.headers["Location"]).path).get_data(as_text=True)
    assert 'name="outcome"' in bank_page  # the bank's page: its buttons need no token of ours
    waiting = client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert "Waiting for your payment" in waiting and "Complete your payment" in waiting
    back = client.post(urlsplit(to_bank.headers["Location"]).path, data={"outcome": "succeed"})
    assert urlsplit(back.headers["Location"]).path == f"/pledges/{pledge.id}/return"
    receipt = client.get(f"/pledges/{pledge.id}/return", follow_redirects=True).get_data(as_text=True)
    assert "Thank you!" in receipt and "In escrow" in receipt
    assert ledger.verify() == []
