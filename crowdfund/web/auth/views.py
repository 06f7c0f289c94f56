from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ...extensions import limiter
from ...services import accounts
from ..forms import safe_next, submit_form
from . import bp
from .forms import ChangePasswordForm, LoginForm, LogoutForm, RegisterForm


def _login_limit():
    return current_app.config["RATELIMIT_LOGIN"]


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    outcome = submit_form(form, lambda: accounts.register(form.email.data, form.password.data, form.name.data))
    if outcome.done:
        user = outcome.result
        login_user(user)
        flash(_("Welcome to Crowdfund, %(name)s.", name=user.name), "success")
        return redirect(url_for("main.index"))
    return render_template("auth/register.html", form=form), outcome.status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            form.form_errors.append(_("That email and password do not match an account."))
        else:
            login_user(user)
            return redirect(safe_next(form.next.data))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.post("/logout")
def logout():
    if LogoutForm().validate_on_submit():
        logout_user()
        flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    outcome = submit_form(form, lambda: accounts.change_password(current_user, form.current_password.data,
                                                                 form.new_password.data))
    if outcome.done:
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form), outcome.status
