from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required

from ...extensions import limiter
from ...services import accounts, sign_in_limits, two_factor
from ..forms import safe_next, submit_form
from . import bp
from .forms import ChangePasswordForm, LoginForm, LogoutForm, RegisterForm
from .sessions import current_session_id, sign_in, sign_out
from .two_factor import begin_second_step


def _login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    outcome = submit_form(
        form,
        lambda: accounts.sign_up(
            form.email.data,
            form.password.data,
            form.name.data,
            accept_terms=form.accept_terms.data is True,
            page_locale=str(get_locale() or "") or None,
        ),
    )
    if outcome.done:
        user = outcome.result
        sign_in(user)
        flash(_("Welcome to Crowdfund, %(name)s.", name=user.name), "success")
        return redirect(url_for("main.index"))
    return render_template("auth/register.html", form=form), outcome.status


@bp.route("/login", methods=["GET", "POST"])
# One budget per address with the two-factor step and the API's token requests.
@limiter.shared_limit(_login_limit, scope="sign-in", methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    locked = False
    if form.validate_on_submit():
        try:  # failures are counted per account too; once spent, refused before the password is checked
            user = sign_in_limits.authenticate(form.email.data, form.password.data)
        except sign_in_limits.TooManyAttempts as refusal:
            user, locked = None, True
            form.form_errors.append(refusal.message)
        if user is None:
            if not locked:
                form.form_errors.append(_("That email and password do not match an account."))
        elif refusal := accounts.sign_in_refusal(user):  # suspended: say so, not "wrong password"
            form.form_errors.append(refusal)
        elif two_factor.is_enabled(user):  # signed in only once the code is right too
            return begin_second_step(user, form.next.data)
        else:
            sign_in_limits.signed_in(user.email)
            sign_in(user)
            return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form), 429 if locked else 200 if not form.errors else 422


@bp.post("/logout")
def logout():
    if LogoutForm().validate_on_submit():
        sign_out()
        flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    outcome = submit_form(
        form,
        lambda: accounts.change_password(
            current_user, form.current_password.data, form.new_password.data, keep_session_id=current_session_id()
        ),
    )
    if outcome.done:
        flash(
            _(
                "Your password has been changed. Every other browser signed in to your account has been "
                "signed out, and your API tokens have been revoked."
            ),
            "success",
        )
        return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form), outcome.status
