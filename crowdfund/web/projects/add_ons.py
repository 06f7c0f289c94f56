"""A reward campaign's add-ons, on the founder's editor: offer one, change one, remove one without backers."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...errors import DomainError
from ...services.projects import add_ons
from ..forms import MoneyField, prefilled_form, submit_form
from . import bp
from .access import own_project_or_404
from .forms import MONEY_ATTRS, ConfirmForm, StockItemForm


class AddOnForm(StockItemForm):
    """An add-on."""

    title = StringField(_l("Add-on title"), validators=[DataRequired(_l("Give the add-on a title.")), Length(max=120)])
    price = MoneyField(_l("Price"), validators=[InputRequired(_l("Enter the add-on's price."))], render_kw=MONEY_ATTRS)
    shipping_fee = MoneyField(
        _l("Shipping fee"),
        validators=[Optional()],
        render_kw=MONEY_ATTRS,
        description=_l("Added once per pledge when the add-on is shipped."),
    )
    submit = SubmitField(_l("Save the add-on"))


def _own_add_on_or_404(project, add_on_id):
    add_on = next((a for a in project.add_ons if a.id == add_on_id), None)
    if add_on is None:
        abort(404)
    return add_on


def _to_add_ons(project):
    return redirect(url_for("projects.edit", project_id=project.id, _anchor="add-ons"))


@bp.route("/projects/<int:project_id>/add-ons/new", methods=["GET", "POST"])
@login_required
def new_add_on(project_id):
    project = own_project_or_404(project_id)
    form = AddOnForm(project.currency)
    outcome = submit_form(form, lambda: add_ons.add_add_on(current_user, project, form.data))
    if outcome.done:
        flash(_("The add-on is added."), "success")
        return _to_add_ons(project)
    return render_template("projects/add_on_form.html", project=project, form=form, add_on=None), outcome.status


@bp.route("/projects/<int:project_id>/add-ons/<int:add_on_id>/edit", methods=["GET", "POST"])
@login_required
def edit_add_on(project_id, add_on_id):
    project = own_project_or_404(project_id)
    add_on = _own_add_on_or_404(project, add_on_id)
    form = prefilled_form(AddOnForm, project.currency, data=add_ons.add_on_as_input(add_on))
    outcome = submit_form(form, lambda: add_ons.update_add_on(current_user, add_on, form.data))
    if outcome.done:
        flash(_("The add-on is saved."), "success")
        return _to_add_ons(project)
    return render_template("projects/add_on_form.html", project=project, form=form, add_on=add_on), outcome.status


@bp.post("/projects/<int:project_id>/add-ons/<int:add_on_id>/delete")
@login_required
def delete_add_on(project_id, add_on_id):
    project = own_project_or_404(project_id)
    add_on = _own_add_on_or_404(project, add_on_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        add_ons.delete_add_on(current_user, add_on)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The add-on is removed."), "success")
    return _to_add_ons(project)
