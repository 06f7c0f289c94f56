"""The payment box of the pledge form with Stripe's Payment Element (templates/payments/_stripe_card.html),
the next-action step, and the Content-Security-Policy that lets Stripe.js in only with Stripe."""

import re

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import HiddenField

from tests.payments.conftest import STRIPE_PUBLISHABLE_KEY

PAGE = '<form method="post">{% include "payments/_stripe_card.html" %}<button type="submit">Pledge</button></form>'


def render(app, source=PAGE, **context):
    with app.test_request_context("/projects/1/pledge"):
        return render_template_string(source, **context)


def csp(response):
    """The policy as {directive: [sources]}."""
    return {
        name: sources
        for name, *sources in (part.split() for part in response.headers["Content-Security-Policy"].split(";"))
    }


def external(policy):
    return {
        name: {s for s in sources if "://" in s} for name, sources in policy.items() if any("://" in s for s in sources)
    }


def test_with_stripe_the_card_box_loads_stripe_js_and_our_elements_script(stripe_app, db):
    html = render(stripe_app, currency="GBP")
    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    assert re.search(r'<script src="/static/js/stripe-elements\.js[^"]*" defer></script>', html)
    assert f'data-publishable-key="{STRIPE_PUBLISHABLE_KEY}"' in html
    assert '<input type="hidden" name="payment_method" id="payment_method" value="">' in html
    assert 'data-payment-field="payment_method"' in html
    assert "we never see the number" in html
    assert 'data-currency="gbp"' in html and 'data-payment-method-types="card"' in html
    assert 'data-amount=""' in html  # unknown here: the script keeps wallets that would show one off
    # No inline script: every <script> has a src (the CSP forbids inline code).
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    # No card field of ours: the card number is typed into Stripe's frame only.
    assert not re.search(r'name="(card|number|card_number|cvc)"', html)


def test_the_card_box_fills_the_forms_own_payment_field_and_never_reuses_a_used_method(stripe_app, db):
    class PledgeForm(FlaskForm):
        class Meta:
            csrf = False

        payment_method = HiddenField()

    with stripe_app.test_request_context("/projects/1/pledge", method="POST", data={"payment_method": "pm_used"}):
        form = PledgeForm()
        html = render_template_string(PAGE, payment_field=form.payment_method)
    assert '<input id="payment_method" name="payment_method" type="hidden" value="">' in html
    assert "pm_used" not in html


def test_the_payment_element_offers_the_payment_methods_the_server_allows(stripe_app, db, monkeypatch):
    monkeypatch.setitem(stripe_app.config, "STRIPE_PAYMENT_METHODS", ["card", "alipay", "wechat_pay"])
    html = render(stripe_app, currency="CNY", amount=12800)
    assert 'data-payment-method-types="card,alipay,wechat_pay"' in html
    assert 'data-currency="cny"' in html and 'data-amount="12800"' in html
    assert '<span class="label" id="payment_method-label">Pay</span>' in html  # not only a card


def test_without_a_publishable_key_the_backer_is_told_cards_are_unavailable(stripe_app, db, monkeypatch):
    monkeypatch.setitem(stripe_app.config, "STRIPE_PUBLISHABLE_KEY", None)
    html = render(stripe_app)
    assert "Card payments are not available right now." in html


def test_with_the_sandbox_the_card_box_is_empty_and_stripe_js_is_not_loaded(app, db):
    html = render(app)
    assert "js.stripe.com" not in html and "stripe-elements.js" not in html
    assert "payment_method" not in html


def test_the_3d_secure_step_hands_the_client_secret_to_stripe_js(stripe_app, db):
    source = '{% include "payments/_stripe_next_action.html" %}'
    html = render(stripe_app, source, client_secret="pi_3DS_secret_abc", return_url="/pledges/9")
    assert 'data-client-secret="pi_3DS_secret_abc"' in html and 'data-return-url="/pledges/9"' in html
    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    assert "js.stripe.com" not in render(stripe_app, source, client_secret=None, return_url="/")


def test_the_script_makes_a_payment_method_from_the_payment_element_and_finishes_next_actions(stripe_client):
    script = stripe_client.get("/static/js/stripe-elements.js")
    assert script.status_code == 200
    source = script.get_data(as_text=True)
    for needed in (
        'elements.create("payment"',
        'mode: "payment"',
        'paymentMethodCreation: "manual"',
        "elements.submit()",
        "stripe.createPaymentMethod({ elements: elements })",
        "stripe.handleNextAction({ clientSecret",
    ):
        assert needed in source, needed
    assert 'create("card"' not in source  # the Card Element is gone


def test_the_csp_lets_exactly_stripe_js_in_and_only_with_stripe(stripe_client, client):
    assert external(csp(stripe_client.get("/"))) == {
        "script-src": {"https://js.stripe.com"},
        "frame-src": {"https://js.stripe.com", "https://hooks.stripe.com"},  # its frames: Elements, 3-D Secure
        "connect-src": {"https://api.stripe.com"},
    }
    sandbox = client.get("/")
    assert external(csp(sandbox)) == {} and "stripe" not in sandbox.headers["Content-Security-Policy"]
    assert "stripe" not in sandbox.get_data(as_text=True).lower()


def test_the_next_action_step_speaks_of_the_bank_only_when_only_cards_are_taken(stripe_app, db, monkeypatch):
    source = '{% include "payments/_stripe_next_action.html" %}'
    assert "Your bank asks you" in render(stripe_app, source, client_secret="s", return_url="/")
    monkeypatch.setitem(stripe_app.config, "STRIPE_PAYMENT_METHODS", ["card", "wechat_pay"])
    html = render(stripe_app, source, client_secret="s", return_url="/")
    assert "Your bank asks you" not in html and 'data-client-secret="s"' in html
