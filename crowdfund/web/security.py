"""Security headers on every response."""

# Our pages load everything from our own host: no script, frame or connection elsewhere.
DIRECTIVES = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "style-src": ["'self'"],
    "script-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
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


# What every page gets besides its Content-Security-Policy.
COMMON_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
# {Stripe is the gateway: the headers}, over HTTPS only and not, made once: they are asked for
# on every response, the page cache's quickest answer included.
_HEADERS = {
    stripe: (("Content-Security-Policy", STRIPE_CSP if stripe else CSP), *COMMON_HEADERS) for stripe in (False, True)
}
_HTTPS_HEADERS = {stripe: (*headers, HSTS) for stripe, headers in _HEADERS.items()}


def page_headers(config):
    """The security headers of a response, as (name, value) pairs: added to each response the app
    sends, and sent with each page the page cache's `Front` sends without the app. Asked for per
    response, so that a header may one day differ between them (a CSP nonce) in this one place."""
    headers = _HTTPS_HEADERS if config.get("SESSION_COOKIE_SECURE") else _HEADERS
    return headers[config.get("PAYMENT_GATEWAY") == "stripe"]


def init_app(app):
    @app.after_request
    def add_security_headers(response):
        for name, value in page_headers(app.config):
            response.headers.setdefault(name, value)  # a view's own choice (a stricter Referrer-Policy) stays
        return response
