"""A founder marks a material change to a live offering (services/material_changes.py says what
follows). The admin's page (web/admin/material_changes.py) uses the same form and template."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l, ngettext
from flask_login import current_user, login_required
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from ...services import material_changes
from ..forms import Form, submit_form
from . import bp
from .access import own_project_or_404


class MaterialChangeForm(Form):
    description = TextAreaField(
        _l("What changed"),
        validators=[
            DataRequired(_l("Describe what changed in the offering: investors read it before they reconfirm.")),
            Length(max=material_changes.MAX_DESCRIPTION),
        ],
        description=_l("Investors receive this text by email, as written."),
        render_kw={"rows": 8},
    )
    submit = SubmitField(_l("Mark as a material change"))


def material_change_page(project, *, back_url, done_url):
    """The form, for the founder or an admin; on success every investor is asked to reconfirm."""
    if project.kind != "equity":
        abort(404)  # a reward campaign posts updates instead
    form = MaterialChangeForm()
    outcome = submit_form(form, lambda: material_changes.mark(current_user, project, form.description.data))
    if outcome.done:
        change = outcome.result
        flash(
            ngettext(
                "The change is recorded. %(num)d commitment must be reconfirmed by %(time)s; its investor "
                "has been mailed.",
                "The change is recorded. %(num)d commitments must be reconfirmed by %(time)s; every investor "
                "has been mailed.",
                change.commitments,
                time=f"{change.reconfirm_by:%Y-%m-%d %H:%M} UTC",
            ),
            "success",
        )
        return redirect(done_url)
    return render_template(
        "projects/material_change.html",
        project=project,
        form=form,
        back_url=back_url,
        days=material_changes.reconfirm_days(),
        changes=material_changes.changes_of(project.id),
    ), outcome.status


@bp.route("/projects/<int:project_id>/material-change", methods=["GET", "POST"])
@login_required
def material_change(project_id):
    project = own_project_or_404(project_id)
    dashboard = url_for("projects.dashboard", project_id=project.id)
    return material_change_page(project, back_url=dashboard, done_url=dashboard)
