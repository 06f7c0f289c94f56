"""An equity campaign's terms."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...models import ProjectKind
from ...services.projects import access, equity_terms
from ..forms import prefilled_form, submit_form
from . import bp
from .access import own_project_or_404
from .forms import EquityForm


@bp.route("/projects/<int:project_id>/equity", methods=["GET", "POST"])
@login_required
def equity(project_id):
    project = own_project_or_404(project_id)
    if project.kind != ProjectKind.EQUITY.value:
        abort(404)
    form = prefilled_form(EquityForm, project.currency, data=equity_terms.equity_as_input(project))
    outcome = submit_form(form, lambda: equity_terms.set_equity_terms(current_user, project, form.data))
    if outcome.done:
        flash(_("The equity terms are saved."), "success")
        return redirect(url_for("projects.edit", project_id=project.id, _anchor="equity"))
    return render_template(
        "projects/equity_form.html", project=project, form=form, editable=project.status in access.EDITABLE
    ), outcome.status
