"""Security headers on every response."""

# Our pages load everything from our own host: no script, frame or connection elsewhere.
DIRECTIVES = {
    "default-src": ["'self'"], "img-src": ["'self'", "data:"], "style-src": ["'self'"],
    "script-src": ["'self'"], "font-src": ["'self'"], "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"], "form-action": ["'self'"], "base-uri": ["'self'"], "object-src": ["'none'"],
}
# With Stripe as the gateway, and only then, Stripe.js and what it needs: its script, its
# frames (the Payment Element; the 3-D Secure step, which Stripe serves from hooks.stripe.com)
# and its API. Everything the backer types stays inside those frames.
STRIPE_SOURCES = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


def _policy(extra):
    directives = {name: list(sources) for name, sources in DIRECTIVES.items()}
    for name, sources in extra.items():
        # A directive that was absent fell back to default-src 'self': keep that, then add.
        directives.setdefault(name, list(DIRECTIVES["default-src"])).extend(sources)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


CSP = _policy({})
STRIPE_CSP = _policy(STRIPE_SOURCES)


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
