"""Funding models and stretch goals on the pages: the template globals that say how a
campaign pays its firm, and the editor's stretch goals (add, remove)."""

from babel.numbers import format_percent
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...domain import funding_models
from ...errors import DomainError
from ...services import stretch_goals
from ..forms import Form, MoneyField, submit_form
from ..i18n import _locale as format_locale
from . import bp
from .access import own_project_or_404
from .forms import MONEY_ATTRS, ConfirmForm

bp.add_app_template_global(funding_models.funding_model_label, "funding_model_label")
bp.add_app_template_global(funding_models.funding_model_explained, "funding_model_explained")
bp.add_app_template_global(funding_models.kept_below_goal, "kept_below_goal")


@bp.app_template_global("stake_percent")
def stake_percent(bps):
    """A stake in basis points as the reader's locale writes a percentage: 1234 -> "12.34%"."""
    return format_percent(bps / 10_000, format="#,##0.##%", locale=format_locale())


class StretchGoalForm(Form):
    def __init__(self, currency, *args, **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)

    amount = MoneyField(
        _l("Amount raised that unlocks it"),
        validators=[InputRequired(_l("Enter the amount that unlocks it."))],
        render_kw=MONEY_ATTRS,
        description=_l("Above the campaign's goal."),
    )
    title = StringField(_l("What it unlocks"), validators=[DataRequired(_l("Say what it unlocks.")), Length(max=120)])
    description = TextAreaField(_l("Details"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Add the stretch goal"))


def _to_stretch_goals(project):
    return redirect(url_for("projects.edit", project_id=project.id, _anchor="stretch-goals"))


@bp.route("/projects/<int:project_id>/stretch-goals/new", methods=["GET", "POST"])
@login_required
def new_stretch_goal(project_id):
    project = own_project_or_404(project_id)
    form = StretchGoalForm(project.currency)
    outcome = submit_form(form, lambda: stretch_goals.add_stretch_goal(current_user, project, form.data))
    if outcome.done:
        flash(_("The stretch goal is added."), "success")
        return _to_stretch_goals(project)
    return render_template("projects/stretch_goal_form.html", project=project, form=form), outcome.status


@bp.post("/projects/<int:project_id>/stretch-goals/<int:goal_id>/delete")
@login_required
def delete_stretch_goal(project_id, goal_id):
    project = own_project_or_404(project_id)
    goal = stretch_goals.get_stretch_goal(project, goal_id)
    if goal is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        stretch_goals.delete_stretch_goal(current_user, goal)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The stretch goal is removed."), "success")
    return _to_stretch_goals(project)
