"""Security headers on every response."""

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
       "base-uri 'self'; object-src 'none'")
# Stripe Elements needs its script, frames and API; only added when Stripe is the gateway.
STRIPE_CSP = ("default-src 'self'; img-src 'self' data: https://*.stripe.com; style-src 'self'; "
              "script-src 'self' https://js.stripe.com; frame-src https://js.stripe.com https://hooks.stripe.com; "
              "connect-src 'self' https://api.stripe.com; font-src 'self'; frame-ancestors 'none'; "
              "form-action 'self'; base-uri 'self'; object-src 'none'")


def init_app(app):
    @app.after_request
    def add_security_headers(response):
        stripe = app.config.get("PAYMENT_GATEWAY") == "stripe"
        response.headers.setdefault("Content-Security-Policy", STRIPE_CSP if stripe else CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
