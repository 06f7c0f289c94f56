"""/account/sessions: the browsers signed in to the account and its API tokens, each with a
button that ends it (services/user_sessions.py, services/api_tokens.py)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required

from ...errors import NotFound
from ...services import api_tokens, user_sessions
from . import bp
from .recovery_forms import EndForm
from .sessions import current_session_id, end_all_sessions, sign_out

# (what the user agent contains, name) in the order they must be tested: Edge and Opera say
# "Chrome" too, Chrome says "Safari", and Android says "Linux".
BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent):
    """ "Firefox on Windows" from a user agent string, or the string itself when neither is known."""
    text = user_agent or ""
    browser = next((name for marker, name in BROWSERS if marker in text), None)
    system = next((name for marker, name in SYSTEMS if marker in text), None)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or (text[:60] or _("Unknown device"))


@bp.get("/sessions")
@login_required
def sessions_page():
    return render_template(
        "auth/sessions.html",
        sessions=user_sessions.active_for(current_user),
        tokens=api_tokens.live_for(current_user),
        this_session_id=current_session_id(),
        describe_device=describe_device,
    )


@bp.post("/sessions/<int:session_id>/end")
@login_required
def end_session(session_id):
    if not EndForm().validate_on_submit():
        return redirect(url_for("auth.sessions_page"))
    try:
        user_sessions.end_one(current_user, session_id)
    except NotFound:
        abort(404)
    if session_id == current_session_id():
        sign_out()
        flash(_("You are logged out."), "info")
        return redirect(url_for("main.index"))
    flash(_("That session has ended: the browser is signed out."), "success")
    return redirect(url_for("auth.sessions_page"))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    if EndForm().validate_on_submit():
        ended = end_all_sessions(current_user, except_current=True)
        flash(
            ngettext(
                "Every other browser is signed out (%(num)d session ended).",
                "Every other browser is signed out (%(num)d sessions ended).",
                ended,
            ),
            "success",
        )
    return redirect(url_for("auth.sessions_page"))


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    if not EndForm().validate_on_submit():
        return redirect(url_for("auth.sessions_page"))
    try:
        api_tokens.revoke_own(current_user, token_id)
    except NotFound:
        abort(404)
    flash(_("The token is revoked: programs using it can no longer sign in with it."), "success")
    return redirect(url_for("auth.sessions_page"))
