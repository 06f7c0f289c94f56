"""What crawlers and browsers ask a site for: /robots.txt, /sitemap.xml (the public campaign
pages) and /favicon.ico. The campaign pages' sharing tags are in templates/sharing/."""

from flask import Blueprint, current_app, render_template, send_from_directory, url_for

from ..services import campaign_pages

bp = Blueprint("sharing", __name__)

# Pages with nothing for a search engine: accounts, the founders' and admins' own pages, forms.
PRIVATE_PATHS = (
    "/account/",
    "/admin/",
    "/projects/",
    "/firms/new",
    "/me/",
    "/pledges/",
    "/language/",
    "/api/",
    "/sandbox/",
    "/webhooks/",
    "/mail/",
)


@bp.get("/robots.txt")
def robots():
    lines = [
        "User-agent: *",
        *(f"Disallow: {path}" for path in PRIVATE_PATHS),
        f"Sitemap: {url_for('sharing.sitemap', _external=True)}",
        "",
    ]
    response = current_app.response_class("\n".join(lines), mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/sitemap.xml")
def sitemap():
    body = render_template(
        "sharing/sitemap.xml", campaigns=campaign_pages.public_campaigns(), firm_ids=campaign_pages.public_firm_ids()
    )
    return current_app.response_class(body, mimetype="application/xml")


@bp.get("/favicon.ico")
def favicon():
    response = send_from_directory(
        current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600
    )
    response.headers["Cache-Control"] = "public, max-age=604800"
    return response
