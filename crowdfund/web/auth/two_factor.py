"""Two-factor sign-in on the web (crowdfund/services/two_factor.py does the work).

/account/2fa          enrol: a QR code and the secret as text, confirmed with a first code;
                      the ten recovery codes are shown once. When on: new recovery codes.
/account/2fa/verify   the second step of signing in, after a right password (`begin_second_step`)
/account/2fa/disable  turn it off, with the password and a code

An administrator without it, while ADMIN_2FA_REQUIRED, is sent to enrol from every page
(`admins_enrol_first`). A sensitive change asks for a code again unless one was entered in
the last TWO_FACTOR_FRESH_SECONDS (`fresh_code_or_prompt`).
"""

import time

import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required
from markupsafe import Markup
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ...errors import DomainError
from ...extensions import db, limiter
from ...models import User
from ...services import sign_in_limits, two_factor
from ..forms import Form, safe_next, submit_form
from . import bp
from .sessions import sign_in

PENDING = "two_factor_pending"  # who gave the right password, waiting for their code, until when
FRESH = "two_factor_at"  # who last entered a right code in this browser, and when
PROMPT_FIELD = "two_factor_code"  # the code field a `fresh_code_or_prompt` page adds to a POST
QR_PIXELS = 220
# Pages an administrator who must enrol can still open.
ENROLMENT_ENDPOINTS = frozenset({"auth.two_factor", "auth.logout", "main.set_language", "static"})


def sign_in_limit():
    """The per-address budget (RATELIMIT_LOGIN) that web logins, their codes and API token
    requests share (scope "sign-in")."""
    return current_app.config["RATELIMIT_LOGIN"]


class EnrolForm(Form):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The 6 digits the app shows for this account now."),
    )
    submit = SubmitField(_l("Turn on two-factor authentication"))


class CodeForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )
    submit = SubmitField(_l("Continue"))


class NewCodesForm(Form):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )
    submit = SubmitField(_l("Make new recovery codes"))


class DisableForm(Form):
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )
    submit = SubmitField(_l("Turn off two-factor authentication"))


# --- signing in ---------------------------------------------------------------------------


def begin_second_step(user, next_url="", remember=False):
    """The password was right and the account has two-factor sign-in: remember who, for
    TWO_FACTOR_PENDING_SECONDS, and ask for the code. Nobody is signed in yet."""
    session[PENDING] = {
        "user_id": user.id,
        "next": next_url or "",
        "remember": bool(remember),
        "until": time.time() + current_app.config["TWO_FACTOR_PENDING_SECONDS"],
    }
    return redirect(url_for("auth.two_factor_verify"))


def _pending():
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or float(pending.get("until") or 0) < time.time():
        return None, None
    user = db.session.get(User, pending.get("user_id") or 0)
    return (user, pending) if user is not None and user.is_active else (None, None)


@bp.route("/2fa/verify", methods=["GET", "POST"])
@limiter.shared_limit(sign_in_limit, scope="sign-in", methods=["POST"])
def two_factor_verify():
    user, pending = _pending()
    if user is None and current_user.is_authenticated:
        return redirect(url_for("main.index"))
    if user is None:
        session.pop(PENDING, None)
        flash(_("Signing in took too long. Please enter your password again."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            how = two_factor.verify(user, form.code.data)
        except DomainError as error:  # a wrong or used code, or too many of them
            form.code.errors = [error.message]
            status = 429 if error.status == 429 else 422
        else:
            session.pop(PENDING, None)
            sign_in_limits.signed_in(user.email)
            sign_in(user, remember=pending.get("remember", False))
            mark_fresh(user)
            if how == "recovery code":
                left = two_factor.recovery_codes_left(user)
                flash(
                    ngettext(
                        "You signed in with a recovery code. %(num)d is left: make new ones on the "
                        "two-factor page if you need them.",
                        "You signed in with a recovery code. %(num)d are left: make new ones on the "
                        "two-factor page if you need them.",
                        left,
                    ),
                    "warning",
                )
            return redirect(safe_next(pending.get("next")))
    return render_template("auth/two_factor_verify.html", form=form), status


# --- enrolment, recovery codes, turning it off --------------------------------------------


@bp.route("/2fa", methods=["GET", "POST"], endpoint="two_factor")
@login_required
def enrolment():
    if two_factor.is_enabled(current_user):
        return _new_recovery_codes()
    settings = two_factor.begin_enrolment(current_user)
    form = EnrolForm()
    outcome = submit_form(form, lambda: two_factor.confirm_enrolment(current_user, form.code.data))
    if outcome.done:
        mark_fresh(current_user)
        flash(_("Two-factor authentication is on."), "success")
        return _recovery_codes_page(outcome.result)
    uri = two_factor.provisioning_uri(current_user, settings)
    secret = " ".join(settings.secret[i : i + 4] for i in range(0, len(settings.secret), 4))
    return render_template(
        "auth/two_factor_enrol.html",
        form=form,
        qr=_qr_svg(uri),
        secret=secret,
        required=two_factor.must_enrol(current_user),
    ), outcome.status


def _new_recovery_codes():
    form = NewCodesForm()
    outcome = submit_form(form, lambda: two_factor.new_recovery_codes(current_user, form.code.data))
    if outcome.done:
        mark_fresh(current_user)
        return _recovery_codes_page(outcome.result)
    return render_template(
        "auth/two_factor_on.html",
        form=form,
        left=two_factor.recovery_codes_left(current_user),
        may_turn_off=not two_factor.must_keep(current_user),
    ), outcome.status


def _recovery_codes_page(codes):
    response = current_app.make_response(render_template("auth/two_factor_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"  # shown once: not kept by the browser either
    return response


@bp.route("/2fa/disable", methods=["GET", "POST"])
@login_required
def two_factor_disable():
    if not two_factor.is_enabled(current_user) or two_factor.must_keep(current_user):
        if two_factor.must_keep(current_user):
            flash(_("Administrators must keep two-factor authentication on."), "info")
        return redirect(url_for("auth.two_factor"))
    form = DisableForm()
    outcome = submit_form(form, lambda: two_factor.disable(current_user, form.password.data, form.code.data))
    if outcome.done:
        session.pop(FRESH, None)
        flash(_("Two-factor authentication is off. Signing in now needs only your password."), "info")
        return redirect(url_for("auth.two_factor"))
    return render_template("auth/two_factor_disable.html", form=form), outcome.status


def _qr_svg(uri):
    """The enrolment QR code, drawn here as inline SVG: the secret goes to no other service."""
    code = segno.make(uri, error="m")
    modules = code.symbol_size(scale=1)[0]  # with its quiet zone
    return Markup(
        code.svg_inline(
            scale=max(2, QR_PIXELS // modules), svgclass="two-factor-qr", title=_("QR code for your authenticator app")
        )
    )


# --- administrators enrol first -----------------------------------------------------------


@bp.before_app_request
def admins_enrol_first():
    """While ADMIN_2FA_REQUIRED, an administrator without two-factor sign-in can open nothing
    but the enrolment page (and log out): every other page, admin action or not, sends them there."""
    if (
        request.endpoint is None
        or request.endpoint in ENROLMENT_ENDPOINTS
        or request.blueprint == "api"
        or not current_app.config["ADMIN_2FA_REQUIRED"]
    ):
        return None
    if not (current_user.is_authenticated and current_user.is_admin) or not two_factor.must_enrol(current_user):
        return None
    return redirect(url_for("auth.two_factor"))  # the page says why


# --- asking again before a sensitive change -----------------------------------------------


def mark_fresh(user):
    session[FRESH] = {"user_id": user.id, "at": time.time()}


def _fresh(user):
    mark = session.get(FRESH)
    return (
        isinstance(mark, dict)
        and mark.get("user_id") == user.id
        and time.time() - float(mark.get("at") or 0) <= current_app.config["TWO_FACTOR_FRESH_SECONDS"]
    )


def fresh_code_or_prompt(*, back_url, keep=()):
    """None when the signed-in user may go on with a sensitive change: their account has no
    two-factor sign-in, they entered a code in the last TWO_FACTOR_FRESH_SECONDS, or this
    POST carries a right one. Otherwise the page asking for a code, which sends the same POST
    again with it (`keep`: the names of the form fields to carry over)."""
    if not two_factor.is_enabled(current_user) or _fresh(current_user):
        return None
    error, status = None, 200
    code = request.form.get(PROMPT_FIELD)
    if code is not None:
        try:
            two_factor.verify(current_user, code)
        except DomainError as refusal:
            error, status = refusal.message, 429 if refusal.status == 429 else 422
        else:
            mark_fresh(current_user)
            return None
    hidden = {name: request.form[name] for name in keep if name in request.form}
    return render_template(
        "auth/two_factor_prompt.html",
        action=request.path,
        hidden=hidden,
        error=error,
        back_url=back_url,
        field=PROMPT_FIELD,
    ), status
