"""/account: the person's own account: name, email, language, time zone; their data to take
away; deleting the account (services/account_settings.py, account_data.py, account_deletion.py)."""

import json
from functools import lru_cache

from babel.dates import get_timezone_location
from flask import Response, current_app, flash, redirect, render_template, session, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l, refresh
from flask_login import current_user, login_required
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ...services import account_data, account_deletion, account_settings
from ..forms import Form, prefilled_form, submit_form
from . import bp
from .sessions import sign_out

# Each language named in itself, as a language menu does.
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}


class ProfileForm(Form):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=account_settings.NAME_MAX)])
    locale = SelectField(_l("Language"), description=_l("The language of the pages and of the mail we send you."))
    timezone = SelectField(_l("Time zone"), description=_l("Times on the pages and in mail are shown in it."))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = [("", _("As my browser asks"))] + [
            (code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]
        ]
        self.timezone.choices = [("", _("As my browser reports"))] + list(zone_choices(str(get_locale() or "en")))


@lru_cache(maxsize=8)  # one list per language the site offers
def zone_choices(locale):
    """(zone, its place named in `locale`): ("Asia/Shanghai", "China (Shanghai) Time") in English."""
    return tuple(
        (zone, "UTC" if zone == "UTC" else get_timezone_location(zone, locale=locale))
        for zone in account_settings.time_zones()
    )


class EmailForm(Form):
    email = EmailField(
        _l("New email address"),
        validators=[DataRequired(), Length(max=254)],
        description=_l("We mail a link to the new address; until you follow it you cannot pledge or invest."),
    )
    password = PasswordField(_l("Current password"), validators=[DataRequired()])
    submit = SubmitField(_l("Change email address"))


class DeleteForm(Form):
    password = PasswordField(_l("Your password"), validators=[DataRequired()])
    confirm = BooleanField(_l("I understand that my account and personal data are deleted for good."))
    submit = SubmitField(_l("Delete my account"))


def _profile_values():
    return {"name": current_user.name, "locale": current_user.locale or "", "timezone": current_user.timezone or ""}


def _account_page(profile_form=None, email_form=None, status=200):
    return render_template(
        "account/index.html",
        profile_form=profile_form or ProfileForm(formdata=None, data=_profile_values()),
        email_form=email_form or EmailForm(formdata=None),
        user=current_user,
    ), status


@bp.get("")
@login_required
def account():
    return _account_page()


@bp.post("")
@login_required
def save_profile():
    form = prefilled_form(ProfileForm)
    before = current_user.locale
    outcome = submit_form(
        form,
        lambda: account_settings.update_profile(
            current_user, name=form.name.data, locale=form.locale.data, timezone=form.timezone.data
        ),
    )
    if not outcome.done:
        return _account_page(profile_form=form, status=outcome.status)
    if current_user.locale != before:
        # The language switch in the header (kept in the session) would outrank the new choice.
        session.pop("lang", None)
        refresh()  # this message already in the language just chosen
    flash(_("Your account is saved."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/email")
@login_required
def change_email():
    form = EmailForm()
    outcome = submit_form(
        form,
        lambda: account_settings.change_email(current_user, password=form.password.data, new_email=form.email.data),
    )
    if not outcome.done:
        return _account_page(email_form=form, status=outcome.status)
    flash(
        _(
            "Your email address is now %(email)s. We sent a link to it: follow it to confirm the address.",
            email=current_user.email,
        ),
        "success",
    )
    return redirect(url_for("auth.account"))


@bp.get("/data.json")
@login_required
def download_data():
    body = json.dumps(account_data.export(current_user), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="crowdfund-my-data-{current_user.id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteForm()
    refusals = account_deletion.refusals(current_user)
    outcome = submit_form(
        form,
        lambda: account_deletion.delete_account(current_user, password=form.password.data, confirmed=form.confirm.data),
    )
    if outcome.done:
        sign_out()
        flash(_("Your account is deleted. Thank you for having been part of Crowdfund."), "info")
        return redirect(url_for("main.index"))
    return render_template("account/delete.html", form=form, refusals=refusals), outcome.status
