"""The backing form with Stripe as the gateway: Stripe's Payment Element instead of the sandbox's
test cards; and Stripe.js, the one script from another host, only then."""

import re

from tests.conftest import csrf_token
from tests.payments.test_stripe_elements import csp, external
from tests.support.factories import PASSWORD


def back_page(client, make):
    project = make.live_project()
    backer = make.user()
    client.post(
        "/account/login",
        data={"email": backer.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/account/login")},
    )
    response = client.get(f"/p/{project.slug}/back")
    assert response.status_code == 200
    return project, response, response.get_data(as_text=True)


def script_hosts(html):
    return {match for match in re.findall(r'<script[^>]* src="https?://([^/"]+)', html)}


def test_the_backing_form_shows_the_stripe_payment_element(stripe_client, make, db):
    project, response, html = back_page(stripe_client, make)
    assert "data-stripe-card" in html and "https://js.stripe.com/v3/" in html
    assert f'data-currency="{project.currency.lower()}"' in html
    assert html.count('name="payment_method"') == 1  # the hidden field Stripe.js fills, nothing else
    assert "pm_card_visa" not in html and "Sandbox mode" not in html
    assert script_hosts(html) == {"js.stripe.com"}
    assert external(csp(response)) == {
        "script-src": {"https://js.stripe.com"},
        "frame-src": {"https://js.stripe.com", "https://hooks.stripe.com"},
        "connect-src": {"https://api.stripe.com"},
    }
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))  # no inline script


def test_with_the_sandbox_the_backing_form_loads_nothing_from_another_host(client, make, db):
    _, response, html = back_page(client, make)
    assert "stripe" not in html.lower() and script_hosts(html) == set()
    assert external(csp(response)) == {} and "stripe" not in response.headers["Content-Security-Policy"]
