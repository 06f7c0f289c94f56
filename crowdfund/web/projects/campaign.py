"""Moving a campaign on: submit it for review, launch it, cancel it."""

from datetime import timedelta

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required

from ...domain.clock import utcnow
from ...services import campaigns, payout_accounts
from ...services.projects import submission
from ..forms import prefilled_form, submit_form
from . import bp
from .access import own_project_or_404
from .forms import ConfirmForm, LaunchForm, NoteForm

REQUIREMENT_LABELS = {
    "firm": _l("The firm has a valid registration number"),
    "description": _l("A description of the project"),
    "risks": _l("The risks and challenges"),
    "use_of_funds": _l("How the money will be used"),
    "tiers": _l("At least one reward tier"),
    "equity": _l("The equity terms"),
    "goal": _l("A goal the offering can reach"),
    "business_plan": _l("The business plan (PDF)"),
    "financial_statements": _l("The financial statements (PDF)"),
}


@bp.route("/projects/<int:project_id>/submit", methods=["GET", "POST"])
@login_required
def submit(project_id):
    project = own_project_or_404(project_id)
    form = ConfirmForm()
    outcome = submit_form(form, lambda: submission.submit(current_user, project))
    if outcome.done:
        flash(_("Your project is submitted. An administrator will review it."), "success")
        return redirect(url_for("projects.edit", project_id=project.id))
    keys = ["firm", "description", "risks", "use_of_funds"]
    keys += ["tiers"] if project.kind == "reward" else ["equity", "goal", "business_plan", "financial_statements"]
    return render_template(
        "projects/submit.html",
        project=project,
        form=form,
        keys=keys,
        labels=REQUIREMENT_LABELS,
        problems=submission.submission_problems(project),
    ), outcome.status


@bp.route("/projects/<int:project_id>/launch", methods=["GET", "POST"])
@login_required
def launch(project_id):
    project = own_project_or_404(project_id)
    earliest, latest = campaigns.launch_window(kind=project.kind)
    suggested = utcnow() + timedelta(days=project.duration_days) if project.duration_days else earliest
    suggested = min(max(suggested, earliest + timedelta(minutes=5)), latest)
    form = prefilled_form(LaunchForm, data={"deadline": suggested.replace(second=0, microsecond=0)})
    outcome = submit_form(form, lambda: campaigns.launch(current_user, project, form.deadline.data))
    if outcome.done:
        flash(_("Your campaign is live."), "success")
        return redirect(url_for("projects.show", slug=project.slug))
    payout_status = payout_accounts.status_of(project.firm_id)
    not_ready = None if payout_status == "verified" else payout_accounts.not_ready_message(payout_status)
    return render_template(
        "projects/launch.html", project=project, form=form, earliest=earliest, latest=latest, not_ready=not_ready
    ), outcome.status


@bp.route("/projects/<int:project_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(project_id):
    project = own_project_or_404(project_id)
    form = NoteForm()
    outcome = submit_form(form, lambda: campaigns.cancel(current_user, project, form.note.data))
    if outcome.done:
        flash(_("The campaign is cancelled. Backers' pledges will be returned."), "success")
        return redirect(url_for("projects.edit", project_id=project.id))
    return render_template("projects/cancel.html", project=project, form=form), outcome.status
