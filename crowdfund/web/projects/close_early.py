"""The founder brings a live offering's deadline forward (services/offerings.py says when)."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import DateTimeLocalField, SubmitField
from wtforms.validators import DataRequired

from ...services import offerings
from ..forms import Form, prefilled_form, submit_form
from ..timezones import viewer_zone
from . import bp
from .access import own_project_or_404
from .forms import LOCAL_FORMATS


class CloseEarlyForm(Form):
    deadline = DateTimeLocalField(
        _l("New deadline"),
        format=LOCAL_FORMATS,
        tz=viewer_zone,
        validators=[DataRequired(_l("Choose the new deadline."))],
    )
    submit = SubmitField(_l("Close the offering early"))


@bp.route("/projects/<int:project_id>/close-early", methods=["GET", "POST"])
@login_required
def close_early(project_id):
    project = own_project_or_404(project_id)
    earliest = offerings.earliest_early_close()
    suggested = earliest.replace(second=0, microsecond=0)
    form = prefilled_form(CloseEarlyForm, data={"deadline": suggested})
    outcome = submit_form(form, lambda: offerings.close_early(current_user, project, form.deadline.data))
    if outcome.done:
        flash(
            _(
                "The offering now closes on %(deadline)s. Every investor has been told.",
                deadline=f"{project.deadline:%Y-%m-%d %H:%M} UTC",
            ),
            "success",
        )
        return redirect(url_for("projects.edit", project_id=project.id))
    return render_template("projects/close_early.html", project=project, form=form, earliest=earliest), outcome.status
