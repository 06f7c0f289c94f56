"""The backing form with Stripe as the gateway: Stripe Elements instead of the sandbox's test cards."""
import re

from tests.conftest import csrf_token
from tests.factories import PASSWORD


def test_the_backing_form_shows_the_stripe_card_box(stripe_client, make, db):
    project = make.live_project()
    backer = make.user()
    stripe_client.post("/account/login", data={"email": backer.email, "password": PASSWORD,
                                                "csrf_token": csrf_token(stripe_client, "/account/login")})
    response = stripe_client.get(f"/p/{project.slug}/back")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "data-stripe-card" in html and "https://js.stripe.com/v3/" in html
    assert html.count('name="payment_method"') == 1  # the hidden field Stripe.js fills, nothing else
    assert "pm_card_visa" not in html and "Sandbox mode" not in html
    assert "https://js.stripe.com" in response.headers["Content-Security-Policy"]
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))  # no inline script
