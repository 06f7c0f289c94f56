"""Admin: the reference exchange rates limits are converted at (services/fx_rates.py)."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ...domain.fx import BASE
from ...domain.money import SUPPORTED_CURRENCIES
from ...services import fx_rates
from ..forms import Form, submit_form
from ..projects.forms import choices
from . import bp


class RateForm(Form):
    currency = SelectField(
        _l("Currency"), choices=choices((c, c) for c in SUPPORTED_CURRENCIES if c != BASE), validators=[DataRequired()]
    )
    per_usd = StringField(
        _l("Units per US dollar"),
        validators=[DataRequired(), Length(max=30)],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    as_of = DateField(_l("Published on"), validators=[DataRequired(_l("Enter the date the rate was published."))])
    submit = SubmitField(_l("Save the rate"))


@bp.route("/fx-rates", methods=["GET", "POST"])
def fx_rates_page():
    form = RateForm()
    outcome = submit_form(
        form, lambda: fx_rates.save_rate(current_user, form.currency.data, form.per_usd.data, form.as_of.data)
    )
    if outcome.done:
        flash(_("The rate for %(currency)s is saved.", currency=form.currency.data), "success")
        return redirect(url_for("admin.fx_rates_page"))
    return render_template("admin/fx_rates.html", form=form, rows=fx_rates.rate_rows()), outcome.status
