"""Password reset by email and email verification (services/password_reset.py,
services/email_verification.py):

/account/forgot          an address; the same answer whether or not an account has it
/account/reset/<token>   the mailed link: a new password, then signed in (everywhere else out)
/account/verify/<token>  the mailed link that confirms the address
/account/verify/resend   "send the link again" (POST), rate-limited per account
"""

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required

from ...extensions import limiter
from ...services import email_verification, password_reset, two_factor
from ...services.signed_links import LinkRefused
from ..forms import safe_next, submit_form
from . import bp
from .recovery_forms import ForgotForm, ResendForm, ResetForm
from .sessions import sign_in


def _page_locale():
    return str(get_locale() or "") or None


def _per_client_limit():
    return current_app.config["RATELIMIT_LOGIN"]


def _per_address_limit():
    return current_app.config["RATELIMIT_PASSWORD_RESET"]


def _address_key():
    # As typed, lower-cased: enough to keep one mailbox from being flooded with reset mail.
    return "password-reset:" + (request.form.get("email") or "").strip().lower()[:254]


def _resend_limit():
    return current_app.config["RATELIMIT_VERIFICATION_RESEND"]


def _account_key():
    return f"verification-resend:{current_user.get_id()}"


def _link_refused(error, kind):
    response = make_response(render_template("auth/link_refused.html", message=error.message, kind=kind), 400)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_per_client_limit, methods=["POST"])
@limiter.limit(_per_address_limit, key_func=_address_key, methods=["POST"])
def forgot_password():
    form = ForgotForm()
    outcome = submit_form(form, lambda: password_reset.request_reset(form.email.data, page_locale=_page_locale()))
    if outcome.done:
        # The same page for every address, known or not: it tells nobody who has an account.
        return render_template(
            "auth/forgot_sent.html",
            email=form.email.data.strip(),
            ttl_minutes=max(current_app.config["PASSWORD_RESET_TTL"] // 60, 1),
        )
    return render_template("auth/forgot.html", form=form), outcome.status


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    try:
        user = password_reset.user_for_token(token)
    except LinkRefused as error:
        return _link_refused(error, "reset")
    form = ResetForm()
    outcome = submit_form(form, lambda: password_reset.reset_password(token, form.password.data))
    if outcome.done:
        user = outcome.result
        if _may_sign_in_from_mail(user):
            sign_in(user)
            flash(
                _(
                    "Your new password is set, and you are signed in. Every other browser signed in to your "
                    "account has been signed out, and your API tokens have been revoked."
                ),
                "success",
            )
            return redirect(url_for("main.index"))
        flash(
            _(
                "Your new password is set. Every browser signed in to your account has been signed out, and "
                "your API tokens have been revoked. Sign in with the new password."
            ),
            "success",
        )
        return redirect(url_for("auth.login"))
    response = make_response(render_template("auth/reset.html", form=form, email=user.email), outcome.status)
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is a secret until it is used
    return response


def _may_sign_in_from_mail(user):
    """A link from the mailbox alone signs in an account with no second factor; an admin, or an
    account with two-factor authentication, signs in on the login page, which asks for it."""
    return not user.is_admin and not two_factor.is_enabled(user)


@bp.get("/verify/<token>")
def verify_email(token):
    try:
        user = email_verification.verify(token)
    except LinkRefused as error:
        return _link_refused(error, "verify")
    flash(_("Thank you: %(email)s is confirmed as your email address.", email=user.email), "success")
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    return redirect(url_for("auth.login"))


@bp.post("/verify/resend")
@login_required
@limiter.limit(_resend_limit, key_func=_account_key)
def resend_verification():
    if ResendForm().validate_on_submit():
        if email_verification.is_verified(current_user):
            flash(_("Your email address is already confirmed."), "info")
        else:
            email_verification.request_verification(current_user, page_locale=_page_locale())
            flash(
                _(
                    "We sent a new link to %(email)s. It can take a few minutes to arrive; look in your spam "
                    "folder too.",
                    email=current_user.email,
                ),
                "success",
            )
    return redirect(safe_next(request.form.get("next")))
