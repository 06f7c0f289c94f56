"""A firm's public profile at /firms/<id> (for anyone outside it), and the people its founders
name there (services/firm_record.py)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from ...services import delivery_records, firm_record
from ...services.firm_record import NAME_MAX, ROLE_MAX
from ..comments.forms import ButtonForm
from ..forms import Form, submit_form
from . import bp
from .views import own_firm_or_404


class PersonForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Write the person's name.")), Length(max=NAME_MAX)])
    role = StringField(
        _l("Role in the firm"),
        validators=[Optional(), Length(max=ROLE_MAX)],
        description=_l("For example: founder and director, head of production."),
    )
    submit = SubmitField(_l("Add"))


def public_profile(firm):
    """The firm as anyone may see it; 404 until it has a campaign with a public page."""
    if not firm_record.is_public(firm):
        abort(404)
    return render_template(
        "firms/profile.html",
        firm=firm,
        people=firm_record.people(firm),
        campaigns=firm_record.campaigns(firm),
        delivery=delivery_records.firm_performance(firm),
    )


@bp.route("/<int:firm_id>/people", methods=["GET", "POST"])
@login_required
def people(firm_id):
    firm = own_firm_or_404(firm_id)
    form = PersonForm()
    outcome = submit_form(form, lambda: firm_record.add_person(current_user, firm, form.name.data, form.role.data))
    if outcome.done:
        flash(_("%(name)s is on the firm's public profile.", name=outcome.result.name), "success")
        return redirect(url_for("firms.people", firm_id=firm.id))
    return render_template(
        "firms/people.html", firm=firm, people=firm_record.people(firm), form=form, remove_form=ButtonForm()
    ), outcome.status


@bp.post("/<int:firm_id>/people/<int:person_id>/remove")
@login_required
def remove_person(firm_id, person_id):
    firm = own_firm_or_404(firm_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    firm_record.remove_person(current_user, firm, person_id)
    flash(_("The person is no longer on the firm's public profile."), "success")
    return redirect(url_for("firms.people", firm_id=firm.id))
