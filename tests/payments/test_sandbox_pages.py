"""The sandbox's bank and wallet pages (/sandbox/pay/<id>), as the backer sees and uses them."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import segno

from tests.payments.sandbox_helpers import RETURN_URL, operation, pay, queued, received


def page(client, ref, **headers):
    response = client.get(f"/sandbox/pay/{ref}", headers=headers)
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.parametrize(
    "method, heading, buttons",
    [
        (
            "pm_card_threeDSecure2Required",
            "Confirm this payment with your bank",
            ("Complete authentication", "Fail authentication"),
        ),
        ("pm_alipay", "Pay with Alipay", ("Pay", "Cancel payment")),
        ("pm_wechat_pay", "Pay with WeChat Pay", ("I have paid (simulate scanning)", "Fail")),
    ],
)
def test_the_page_shows_the_amount_and_the_two_answers(client, sandbox, method, heading, buttons):
    status, html = page(client, pay(sandbox, method, amount=12345, currency="CNY").ref)
    assert status == 200
    assert f"<h1>{heading}</h1>" in html and "CN¥123.45" in html
    assert re.findall(r'<button[^>]*name="outcome" value="(\w+)">([^<]+)</button>', html) == [
        ("succeed", buttons[0]),
        ("fail", buttons[1]),
    ]
    assert "csrf_token" not in html  # it stands in for the bank, which has none of our tokens
    assert ("<svg" in html) == (method == "pm_wechat_pay")


def test_the_wechat_page_draws_a_qr_code_of_its_own_address(client, sandbox):
    ref = pay(sandbox, "pm_wechat_pay").ref
    _, html = page(client, ref)
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0)
    expected = segno.make(f"http://localhost/sandbox/pay/{ref}", error="m")
    scale = int(re.search(r'transform="scale\((\d+)\)"', svg).group(1))
    drawn = re.search(r' d="([^"]+)"', svg).group(1)
    assert drawn == re.search(r' d="([^"]+)"', expected.svg_inline(scale=scale)).group(1)
    assert 160 <= int(re.search(r'width="(\d+)"', svg).group(1)) <= 260  # fits a 390 px phone


def test_the_page_speaks_chinese(client, sandbox):
    _, html = page(client, pay(sandbox, "pm_wechat_pay").ref, **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "使用微信支付付款" in html and "我已付款（模拟扫码）" in html and "此笔付款的二维码" in html


def test_completing_sends_the_browser_back_with_stripes_parameters(client, sandbox, db):
    ref = pay(sandbox, "pm_card_threeDSecure2Required").ref
    response = client.post(f"/sandbox/pay/{ref}", data={"outcome": "succeed"})
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location._replace(query="").geturl() == RETURN_URL
    assert parse_qs(location.query) == {"payment_intent": [ref], "redirect_status": ["succeeded"]}
    assert operation(db, ref).status == "succeeded" and sandbox.retrieve(ref).ok
    # The request's commit started the delivery: both events have reached our endpoint.
    assert {e.id for e in queued(db)} <= received(db)
    assert [e.type for e in queued(db)] == ["payment_intent.requires_action", "payment_intent.succeeded"]


@pytest.mark.parametrize(
    "method, code", [("pm_card_authenticationRequired", "authentication_failed"), ("pm_alipay", "payment_failed")]
)
def test_failing_declines_the_payment(client, sandbox, db, method, code):
    ref = pay(sandbox, method).ref
    response = client.post(f"/sandbox/pay/{ref}", data={"outcome": "fail"})
    assert parse_qs(urlsplit(response.headers["Location"]).query)["redirect_status"] == ["failed"]
    op = operation(db, ref)
    assert (op.status, op.decline_code) == ("declined", code)
    assert sandbox.retrieve(ref).decline_code == code


def test_a_second_answer_changes_nothing_and_the_page_says_it_is_finished(client, sandbox, db):
    ref = pay(sandbox, "pm_alipay").ref
    client.post(f"/sandbox/pay/{ref}", data={"outcome": "succeed"})
    again = client.post(f"/sandbox/pay/{ref}", data={"outcome": "fail"})
    assert parse_qs(urlsplit(again.headers["Location"]).query)["redirect_status"] == ["succeeded"]
    assert operation(db, ref).status == "succeeded"
    status, html = page(client, ref)
    assert status == 200 and "This payment is complete." in html and "<button" not in html.split("<main")[1]
    assert "Return to Crowdfund" in html


def test_without_a_return_url_the_page_says_done(client, sandbox):
    ref = pay(sandbox, "pm_wechat_pay", return_url=None).ref
    response = client.post(f"/sandbox/pay/{ref}", data={"outcome": "succeed"})
    assert response.status_code == 200
    assert "Payment complete" in response.get_data(as_text=True)


def test_unknown_payments_plain_cards_and_other_answers_are_refused(client, sandbox):
    assert page(client, "ch_sbx_nothing")[0] == 404
    assert page(client, pay(sandbox, "pm_card_visa").ref)[0] == 404
    ref = pay(sandbox, "pm_alipay").ref
    assert client.post(f"/sandbox/pay/{ref}", data={"outcome": "maybe"}).status_code == 400
    assert sandbox.retrieve(ref).requires_action
