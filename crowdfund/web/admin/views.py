"""Admin pages: the review queue, the review form, live campaigns and suspension."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...errors import DomainError
from ...services import accounts, campaigns, reviews
from ...services.projects import access, documents, equity_terms, submission
from ..forms import apply_domain_error, submit_form
from ..request_guards import whole_number
from . import bp
from .forms import CHECKLIST_LABELS, DECISION_LABELS, ReviewForm, SuspendForm

bp.add_app_template_global(lambda decision: DECISION_LABELS.get(decision, decision), "decision_label")


def _project_or_404(project_id):
    try:
        return access.get_project(project_id)
    except DomainError:
        abort(404)


@bp.get("/")
def index():
    return redirect(url_for("admin.review_queue"))


@bp.get("/reviews")
def review_queue():
    return render_template("admin/queue.html", queue=reviews.review_queue())


@bp.route("/reviews/<int:project_id>", methods=["GET", "POST"])
def review(project_id):
    project = _project_or_404(project_id)
    form = ReviewForm()
    status = 200
    if form.validate_on_submit():
        checklist = {key: form[key].data for key in reviews.CHECKLIST}
        try:
            reviews.review_project(
                current_user,
                project,
                form.decision.data,
                checklist=checklist,
                risk_grade=form.risk_grade.data,
                note=form.note.data,
            )
        except DomainError as error:
            apply_domain_error(form, error)
            if error.fields.get("checklist"):
                form.form_errors.append(error.fields["checklist"])
            status = error.status
        else:
            flash(_("The decision is recorded."), "success")
            return redirect(url_for("admin.review_queue"))
    elif form.is_submitted():
        status = 422
    return render_template(
        "admin/review.html",
        project=project,
        form=form,
        checks=reviews.applicable_checks(project),
        checklist_labels=CHECKLIST_LABELS,
        submitted_at=reviews.submitted_at(project),
        documents=documents.current_documents(project),
        problems=submission.submission_problems(project),
        own_firm=project.firm.has_member(current_user),
        in_review=project.status == "in_review",
        max_raise=equity_terms.max_raise(project) if project.equity else None,
    ), status


@bp.get("/campaigns")
def live_campaigns():
    return render_template("admin/campaigns.html", campaigns=reviews.live_campaigns())


@bp.route("/campaigns/<int:project_id>/suspend", methods=["GET", "POST"])
def suspend(project_id):
    project = _project_or_404(project_id)
    form = SuspendForm()
    outcome = submit_form(form, lambda: campaigns.suspend(current_user, project, form.note.data))
    if outcome.done:
        flash(_("The campaign is suspended. Backers' pledges will be returned."), "success")
        return redirect(url_for("admin.live_campaigns"))
    return render_template("admin/suspend.html", project=project, form=form), outcome.status


USERS_PER_PAGE = 50


@bp.get("/users")
def users():
    q = (request.args.get("q") or "").strip()[:100]
    page = whole_number(request.args.get("page"), 99_999) or 1
    found, total = accounts.list_users(q, page=page, per_page=USERS_PER_PAGE)
    return render_template(
        "admin/users.html", users=found, total=total, q=q, page=page, pages=max(1, -(-total // USERS_PER_PAGE))
    )
