"""The card box of the pledge form with Stripe Elements (templates/payments/_stripe_card.html)."""
import re

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import HiddenField

from tests.payments.conftest import STRIPE_PUBLISHABLE_KEY

PAGE = '<form method="post">{% include "payments/_stripe_card.html" %}<button type="submit">Pledge</button></form>'


def render(app, source=PAGE, **context):
    with app.test_request_context("/projects/1/pledge"):
        return render_template_string(source, **context)


def test_with_stripe_the_card_box_loads_stripe_js_and_our_elements_script(stripe_app, db):
    html = render(stripe_app)
    assert '<script src="https://js.stripe.com/v3/"></script>' in html
    assert re.search(r'<script src="/static/js/stripe-elements\.js[^"]*" defer></script>', html)
    assert f'data-publishable-key="{STRIPE_PUBLISHABLE_KEY}"' in html
    assert '<input type="hidden" name="payment_method" id="payment_method" value="">' in html
    assert 'data-payment-field="payment_method"' in html
    assert "we never see the number" in html
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


def test_the_elements_script_is_served_and_the_csp_lets_stripe_js_in_only_with_stripe(stripe_client, client):
    script = stripe_client.get("/static/js/stripe-elements.js")
    assert script.status_code == 200
    assert b"createPaymentMethod" in script.data and b"handleNextAction" in script.data
    assert "https://js.stripe.com" in stripe_client.get("/").headers["Content-Security-Policy"]
    assert "https://js.stripe.com" not in client.get("/").headers["Content-Security-Policy"]
