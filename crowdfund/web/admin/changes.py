"""Campaign changes after approval that wait for an administrator's look (risks, use of funds,
documents): the queue, and one campaign's changes with the old and new text. The campaign
stays live; the administrator marks the changes looked at, or suspends it (admin.suspend)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ...errors import DomainError
from ...services import change_history
from ...services.projects import access
from ..forms import Form, submit_form
from . import bp


class LookedAtForm(Form):
    # The newest change the page showed: one that arrives meanwhile waits for the next look.
    through = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9]{1,9}$")])
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[Optional(), Length(max=change_history.NOTE_MAX)],
        description=_l("Kept with the record of your look; the founders do not see it."),
    )


def _project_or_404(project_id):
    try:
        return access.get_project(project_id)
    except DomainError:
        abort(404)


@bp.get("/changes")
def changes_queue():
    return render_template("admin/changes.html", queue=change_history.awaiting_look())


@bp.route("/changes/<int:project_id>", methods=["GET", "POST"])
def change_review(project_id):
    project = _project_or_404(project_id)
    form = LookedAtForm()
    outcome = submit_form(
        form,
        lambda: change_history.mark_looked_at(current_user, project, int(form.through.data), form.note.data),
    )
    if outcome.done:
        flash(_("The changes are marked as looked at."), "success")
        return redirect(url_for("admin.changes_queue"))
    pending = change_history.pending_review(project)
    if pending and not form.is_submitted():
        form.through.data = str(pending[-1].edit.id)
    return render_template("admin/change_review.html", project=project, pending=pending, form=form), outcome.status
