"""The web front end: blueprints, error pages, headers, login wiring."""

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from ..extensions import login_manager
from . import i18n, outages, page_cache, request_guards, security, unit_of_work
from .auth import sessions


def register_web(app):
    request_guards.init_app(app)  # bounded ids, no NUL in addresses: before any route exists
    unit_of_work.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    outages.init_app(app)  # the database out of reach: retried once, else 503, never a 500
    app.add_template_global(page_cache.this_page, "this_page")

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see that page.")
    login_manager.login_message_category = "info"

    # A signed-in browser is known by the live session record its cookie names (one query
    # joining the record and its user); see crowdfund/web/auth/sessions.py.
    login_manager.user_loader(sessions.load_user)

    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .comments import bp as comments_bp
    from .firms import bp as firms_bp
    from .main import bp as main_bp
    from .notifications import bp as notifications_bp
    from .pledges import bp as pledges_bp
    from .projects import bp as projects_bp
    from .settlement import bp as settlement_bp
    from .sharing import bp as sharing_bp
    from .webhooks import bp as webhooks_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/account")
    app.register_blueprint(firms_bp, url_prefix="/firms")
    app.register_blueprint(webhooks_bp, url_prefix="/webhooks")
    app.register_blueprint(pledges_bp)  # /p/<slug>/back, /pledges/<id>, /me/pledges, /me/investor-profile
    app.register_blueprint(projects_bp)  # /projects/... (founders) and /p/<slug> (public)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(settlement_bp)  # statements, holdings, share register
    app.register_blueprint(comments_bp)  # /p/<slug>/comments, /comments/<id>/...
    app.register_blueprint(notifications_bp)  # /account/notifications, /mail/unsubscribe/<kind>/<token>
    app.register_blueprint(sharing_bp)  # /robots.txt, /sitemap.xml, /favicon.ico
    if app.config["PAYMENT_GATEWAY"] == "sandbox":
        from .sandbox import register as register_sandbox

        register_sandbox(app)  # /sandbox/pay/<id>: its bank and wallet pages; its webhooks' delivery
    _register_error_pages(app)


ERROR_PAGES = {
    400: (
        _l("Something in that request was not right"),
        _l("The page could not understand what was sent. Go back, check the form and try again."),
    ),
    403: (_l("You cannot do that"), _l("This page or action belongs to someone else, or needs other permissions.")),
    404: (_l("We could not find that page"), _l("The address may be mistyped, or the page may have moved.")),
    405: (_l("That is not allowed here"), _l("This page does not accept that kind of request.")),
    413: (_l("That file is too large"), _l("Please upload a smaller file.")),
    429: (_l("Slow down a little"), _l("There were too many attempts in a short time. Wait a minute and try again.")),
    500: (
        _l("Something went wrong on our side"),
        _l("Nothing you did caused this. The team has been told; please try again shortly."),
    ),
}


def _register_error_pages(app):
    def render_error(status, description=None):
        title, text = ERROR_PAGES[status]
        if request.path.startswith("/api/"):
            from ..errors import json_error

            return json_error(status, description or str(text))
        return render_template("errors/error.html", status=status, title=title, text=text), status

    for status in ERROR_PAGES:
        app.register_error_handler(status, lambda exc, status=status: render_error(status))

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        title = _l("This form has expired")
        text = _l("For your safety the form could not be accepted. Reload the page and send it again.")
        if request.path.startswith("/api/"):
            from ..errors import json_error

            return json_error(400, exc.description)
        return render_template("errors/error.html", status=400, title=title, text=text), 400
