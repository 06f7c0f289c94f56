"""/terms and /privacy: the terms of use and the privacy notice a new account accepts
(the version in force is config TERMS_VERSION, kept on the account with the time)."""

from flask import current_app, render_template

from ..page_cache import cached_for_anonymous
from . import bp


@bp.get("/terms")
@cached_for_anonymous
def terms():
    return render_template("main/terms.html", version=current_app.config["TERMS_VERSION"])


@bp.get("/privacy")
@cached_for_anonymous
def privacy():
    return render_template("main/privacy.html", version=current_app.config["TERMS_VERSION"])
