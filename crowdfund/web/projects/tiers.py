"""A reward campaign's tiers: add, change, remove."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...errors import DomainError
from ...services.projects import tiers
from ..forms import prefilled_form, submit_form
from . import bp
from .access import own_project_or_404
from .forms import ConfirmForm, TierForm


def _own_tier_or_404(project, tier_id):
    tier = next((t for t in project.tiers if t.id == tier_id), None)
    if tier is None:
        abort(404)
    return tier


def _to_rewards(project):
    return redirect(url_for("projects.edit", project_id=project.id, _anchor="rewards"))


@bp.route("/projects/<int:project_id>/tiers/new", methods=["GET", "POST"])
@login_required
def new_tier(project_id):
    project = own_project_or_404(project_id)
    form = TierForm(project.currency)
    outcome = submit_form(form, lambda: tiers.add_tier(current_user, project, form.data))
    if outcome.done:
        flash(_("The reward is added."), "success")
        return _to_rewards(project)
    return render_template("projects/tier_form.html", project=project, form=form, tier=None), outcome.status


@bp.route("/projects/<int:project_id>/tiers/<int:tier_id>/edit", methods=["GET", "POST"])
@login_required
def edit_tier(project_id, tier_id):
    project = own_project_or_404(project_id)
    tier = _own_tier_or_404(project, tier_id)
    form = prefilled_form(TierForm, project.currency, data=tiers.tier_as_input(tier))
    outcome = submit_form(form, lambda: tiers.update_tier(current_user, tier, form.data))
    if outcome.done:
        flash(_("The reward is saved."), "success")
        return _to_rewards(project)
    return render_template("projects/tier_form.html", project=project, form=form, tier=tier), outcome.status


@bp.post("/projects/<int:project_id>/tiers/<int:tier_id>/delete")
@login_required
def delete_tier(project_id, tier_id):
    project = own_project_or_404(project_id)
    tier = _own_tier_or_404(project, tier_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        tiers.delete_tier(current_user, tier)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The reward is removed."), "success")
    return _to_rewards(project)
