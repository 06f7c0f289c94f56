"""Founders' pages (my projects, the editor, submission, launch, cancel) and the public
project page at /p/<slug>. Thin: parse the form, call one service, render."""
import csv
import io
from datetime import timedelta

from flask import (Response, abort, current_app, flash, redirect, render_template, request, send_from_directory,
                   url_for)
from flask_babel import get_locale, gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required

from ...domain.charts import funding_chart
from ...domain.money import exponent, to_major
from ...errors import DomainError
from ...models import ProjectKind, utcnow
from ...services import campaigns, dashboard as dashboards, projects, statements, updates
from ...services.firms import country_names
from ..forms import apply_domain_error
from ..page_cache import cached_for_anonymous
from . import bp
from .forms import (CATEGORY_LABELS, KIND_LABELS, SHIPPING_LABELS, BasicsForm, ConfirmForm, DocumentForm,
                    EquityForm, LaunchForm, NewProjectForm, NoteForm, StoryForm, TierForm, UpdateForm)

STATUS_LABELS = {
    "draft": _l("Draft"), "in_review": _l("In review"), "changes_requested": _l("Changes requested"),
    "approved": _l("Approved"), "rejected": _l("Rejected"), "live": _l("Live"),
    "successful": _l("Successful"), "failed": _l("Did not reach its goal"), "cancelled": _l("Cancelled"),
    "suspended": _l("Suspended"),
}
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


# Template globals (not a context processor), so imported macros can use them too.
bp.add_app_template_global(lambda status: STATUS_LABELS.get(status, status), "status_label")
bp.add_app_template_global(lambda category: CATEGORY_LABELS.get(category, category), "category_label")
bp.add_app_template_global(lambda shipping: SHIPPING_LABELS.get(shipping, shipping), "shipping_label")
bp.add_app_template_global(projects.progress_percent, "progress_percent")
bp.add_app_template_global(lambda code: country_names(str(get_locale() or "en")).get(code, code), "country_name")


TIME_LEFT = {  # (with "left", for a sentence; without, for a figure under a "Time left" label)
    86400: (lambda n: ngettext("%(num)d day left", "%(num)d days left", n),
            lambda n: ngettext("%(num)d day", "%(num)d days", n)),
    3600: (lambda n: ngettext("%(num)d hour left", "%(num)d hours left", n),
           lambda n: ngettext("%(num)d hour", "%(num)d hours", n)),
    60: (lambda n: ngettext("%(num)d minute left", "%(num)d minutes left", n),
         lambda n: ngettext("%(num)d minute", "%(num)d minutes", n)),
}


def _time_left(deadline, short):
    if deadline is None:
        return ""
    seconds = int((deadline - utcnow()).total_seconds())
    if seconds <= 0:
        return _("Ended")
    for unit, words in TIME_LEFT.items():
        if seconds >= unit or unit == 60:
            return words[short](max(1, seconds // unit))
    return ""  # pragma: no cover - the minute entry always answers


@bp.app_template_filter("time_left")
def time_left(deadline):
    return _time_left(deadline, short=False)


@bp.app_template_filter("time_left_short")
def time_left_short(deadline):
    return _time_left(deadline, short=True)


def _own_project_or_404(project_id):
    try:
        project = projects.get_project(project_id)
    except DomainError:
        abort(404)
    if not projects.is_member(current_user, project):
        abort(404)  # someone else's project: do not even confirm it exists
    return project


def _own_tier_or_404(project, tier_id):
    tier = next((t for t in project.tiers if t.id == tier_id), None)
    if tier is None:
        abort(404)
    return tier


def _failed(form, error):
    """Put a service error on the form; the status to answer with."""
    apply_domain_error(form, error)
    return error.status


def _document_kinds(project):
    kinds = []
    if project.status in projects.EDITABLE | projects.STORY_EDITABLE:
        kinds.append("cover")
    if project.kind == ProjectKind.EQUITY.value and project.status in projects.EDITABLE:
        kinds.extend(projects.DISCLOSURE_KINDS)
    return kinds


def _render_editor(project, form=None, document_form=None, status=200):
    if form is None:
        if project.status in projects.EDITABLE:
            form = BasicsForm(formdata=None, data=projects.basics_as_input(project))
        elif project.status in projects.STORY_EDITABLE:
            form = StoryForm(formdata=None, data=projects.basics_as_input(project))
    kinds = _document_kinds(project)
    if document_form is None and kinds:
        document_form = DocumentForm(kinds, formdata=None)
    return render_template(
        "projects/edit.html", project=project, form=form, document_form=document_form,
        review=projects.latest_review(project),
        documents=projects.current_documents(project), problems=projects.submission_problems(project),
        tiers_editable=project.kind == "reward" and project.status in projects.EDITABLE | projects.STORY_EDITABLE,
        locked=project.status in projects.STORY_EDITABLE), status


# --- the founder's pages -------------------------------------------------------------

@bp.get("/projects/")
@login_required
def mine():
    return render_template("projects/mine.html", projects=projects.projects_for(current_user))


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
def new():
    firms = current_user.firms
    if not firms:
        flash(_("Register your firm first: every project belongs to a firm."), "info")
        return redirect(url_for("firms.new"))
    form = NewProjectForm(firms)
    status = 200
    if form.validate_on_submit():
        firm = next(f for f in firms if f.id == form.firm_id.data)
        try:
            project = projects.create_project(current_user, firm, form.kind.data, form.data)
        except DomainError as error:
            status = _failed(form, error)
        else:
            flash(_("Your project is saved as a draft. Add the details, then submit it for review."), "success")
            return redirect(url_for("projects.edit", project_id=project.id))
    elif form.is_submitted():
        status = 422
    return render_template("projects/new.html", form=form, kind_labels=KIND_LABELS), status


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id):
    project = _own_project_or_404(project_id)
    if request.method == "GET":
        return _render_editor(project)
    if project.status in projects.EDITABLE:
        form = BasicsForm()
    elif project.status in projects.STORY_EDITABLE:
        form = StoryForm()
    else:
        flash(_("This project cannot be edited now."), "error")
        return redirect(url_for("projects.edit", project_id=project.id))
    if form.validate_on_submit():
        try:
            projects.update_project(current_user, project, form.data)
        except DomainError as error:
            return _render_editor(project, form=form, status=_failed(form, error))
        flash(_("Saved."), "success")
        return redirect(url_for("projects.edit", project_id=project.id))
    return _render_editor(project, form=form, status=422)


@bp.route("/projects/<int:project_id>/tiers/new", methods=["GET", "POST"])
@login_required
def new_tier(project_id):
    project = _own_project_or_404(project_id)
    form = TierForm()
    status = 200
    if form.validate_on_submit():
        try:
            projects.add_tier(current_user, project, form.data)
        except DomainError as error:
            status = _failed(form, error)
        else:
            flash(_("The reward is added."), "success")
            return redirect(url_for("projects.edit", project_id=project.id, _anchor="rewards"))
    elif form.is_submitted():
        status = 422
    return render_template("projects/tier_form.html", project=project, form=form, tier=None), status


@bp.route("/projects/<int:project_id>/tiers/<int:tier_id>/edit", methods=["GET", "POST"])
@login_required
def edit_tier(project_id, tier_id):
    project = _own_project_or_404(project_id)
    tier = _own_tier_or_404(project, tier_id)
    form = TierForm(data=projects.tier_as_input(tier))
    status = 200
    if form.validate_on_submit():
        try:
            projects.update_tier(current_user, tier, form.data)
        except DomainError as error:
            status = _failed(form, error)
        else:
            flash(_("The reward is saved."), "success")
            return redirect(url_for("projects.edit", project_id=project.id, _anchor="rewards"))
    elif form.is_submitted():
        status = 422
    return render_template("projects/tier_form.html", project=project, form=form, tier=tier), status


@bp.post("/projects/<int:project_id>/tiers/<int:tier_id>/delete")
@login_required
def delete_tier(project_id, tier_id):
    project = _own_project_or_404(project_id)
    tier = _own_tier_or_404(project, tier_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        projects.delete_tier(current_user, tier)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The reward is removed."), "success")
    return redirect(url_for("projects.edit", project_id=project.id, _anchor="rewards"))


@bp.route("/projects/<int:project_id>/equity", methods=["GET", "POST"])
@login_required
def equity(project_id):
    project = _own_project_or_404(project_id)
    if project.kind != ProjectKind.EQUITY.value:
        abort(404)
    form = EquityForm(data=projects.equity_as_input(project))
    status = 200
    if form.validate_on_submit():
        try:
            projects.set_equity_terms(current_user, project, form.data)
        except DomainError as error:
            status = _failed(form, error)
        else:
            flash(_("The equity terms are saved."), "success")
            return redirect(url_for("projects.edit", project_id=project.id, _anchor="equity"))
    elif form.is_submitted():
        status = 422
    return render_template("projects/equity_form.html", project=project, form=form,
                           editable=project.status in projects.EDITABLE), status


@bp.post("/projects/<int:project_id>/documents")
@login_required
def upload(project_id):
    project = _own_project_or_404(project_id)
    kinds = _document_kinds(project)
    if not kinds:
        abort(409)
    form = DocumentForm(kinds)
    if form.validate_on_submit():
        file = form.file.data
        try:
            projects.upload_document(current_user, project, form.kind.data, file.filename, file.mimetype,
                                     file.stream)
        except DomainError as error:
            return _render_editor(project, document_form=form, status=_failed(form, error))
        flash(_("The file is uploaded."), "success")
        return redirect(url_for("projects.edit", project_id=project.id, _anchor="documents"))
    return _render_editor(project, document_form=form, status=422)


@bp.route("/projects/<int:project_id>/submit", methods=["GET", "POST"])
@login_required
def submit(project_id):
    project = _own_project_or_404(project_id)
    form = ConfirmForm()
    status = 200
    if form.validate_on_submit():
        try:
            projects.submit(current_user, project)
        except DomainError as error:
            status = _failed(form, error)
        else:
            flash(_("Your project is submitted. An administrator will review it."), "success")
            return redirect(url_for("projects.edit", project_id=project.id))
    elif form.is_submitted():
        status = 422  # the form itself was refused (an expired CSRF token)
    keys = ["firm", "description", "risks", "use_of_funds"]
    keys += ["tiers"] if project.kind == "reward" else ["equity", "goal", "business_plan", "financial_statements"]
    return render_template("projects/submit.html", project=project, form=form, keys=keys,
                           labels=REQUIREMENT_LABELS, problems=projects.submission_problems(project)), status


@bp.route("/projects/<int:project_id>/launch", methods=["GET", "POST"])
@login_required
def launch(project_id):
    project = _own_project_or_404(project_id)
    earliest, latest = campaigns.launch_window()
    suggested = utcnow() + timedelta(days=project.duration_days) if project.duration_days else earliest
    suggested = min(max(suggested, earliest + timedelta(minutes=5)), latest)
    form = LaunchForm(data={"deadline": suggested.replace(second=0, microsecond=0)})
    status = 200
    if form.validate_on_submit():
        try:
            campaigns.launch(current_user, project, form.deadline.data)
        except DomainError as error:
            status = _failed(form, error)
        else:
            flash(_("Your campaign is live."), "success")
            return redirect(url_for("projects.show", slug=project.slug))
    elif form.is_submitted():
        status = 422
    return render_template("projects/launch.html", project=project, form=form,
                           earliest=earliest, latest=latest), status


@bp.route("/projects/<int:project_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(project_id):
    project = _own_project_or_404(project_id)
    form = NoteForm()
    status = 200
    if form.validate_on_submit():
        try:
            campaigns.cancel(current_user, project, form.note.data)
        except DomainError as error:
            status = _failed(form, error)
        else:
            flash(_("The campaign is cancelled. Backers' pledges will be returned."), "success")
            return redirect(url_for("projects.edit", project_id=project.id))
    elif form.is_submitted():
        status = 422
    return render_template("projects/cancel.html", project=project, form=form), status


# --- the founder's campaign dashboard ---------------------------------------------------

def _charts(project):
    """The funding-over-time chart, wide (desktop) and narrow (phones), or None before launch."""
    if project.launched_at is None:
        return None
    end = project.closed_at or project.deadline or utcnow()
    points = dashboards.funding_points(project)
    return [funding_chart(points, start=project.launched_at, end=end, goal=project.goal,
                          now=project.closed_at or utcnow(), unit=10 ** exponent(project.currency), **size)
            for size in ({"width": 640, "height": 260}, {"width": 340, "height": 220})]


@bp.get("/projects/<int:project_id>/dashboard")
@login_required
def dashboard(project_id):
    project = _own_project_or_404(project_id)
    return render_template("projects/dashboard.html", project=project, charts=_charts(project),
                           statement=statements.statement(project) if project.launched_at else None,
                           sales=dashboards.tier_sales(project) if project.kind == "reward" else [],
                           counts=dashboards.pledge_counts(project), can_post_update=updates.can_post(project))


CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value):
    """A cell a spreadsheet shows as text: never a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_START) else text


@bp.get("/projects/<int:project_id>/backers.csv")
@login_required
def backers_csv(project_id):
    project = _own_project_or_404(project_id)
    rows = dashboards.backers(current_user, project)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Pledge"), _("Name"), _("Email"), _("Status"), _("Reward"), _("Quantity"), _("Shares"),
                     _("Amount"), _("Currency"), _("In escrow since (UTC)"), _("Recipient"), _("Street address"),
                     _("Address line 2"), _("City"), _("Postal code"), _("Country")])
    for pledge in rows:
        address = pledge.shipping_address or {}
        writer.writerow([_csv_cell(v) for v in (
            pledge.id, pledge.backer.name, pledge.backer.email, pledge.status,
            pledge.tier.title if pledge.tier else "", pledge.quantity if pledge.tier_id else "",
            pledge.shares or "", f"{to_major(pledge.amount, pledge.currency):f}", pledge.currency,
            pledge.held_at.strftime("%Y-%m-%d %H:%M:%S") if pledge.held_at else "",
            *(address.get(key, "") for key in ("name", "line1", "line2", "city", "postal_code", "country")))])
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")  # BOM: spreadsheets read UTF-8
    response.headers["Content-Disposition"] = f'attachment; filename="backers-{project.id}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/projects/<int:project_id>/updates/new", methods=["GET", "POST"])
@login_required
def new_update(project_id):
    project = _own_project_or_404(project_id)
    form = UpdateForm()
    status = 200
    if form.validate_on_submit():
        try:
            updates.post_update(current_user, project, form.title.data, form.body.data)
        except DomainError as error:
            status = _failed(form, error)
        else:
            flash(_("Your update is posted."), "success")
            return redirect(url_for("projects.dashboard", project_id=project.id, _anchor="updates"))
    elif form.is_submitted():
        status = 422
    return render_template("projects/update_form.html", project=project, form=form,
                           can_post=updates.can_post(project)), status


# --- the public project page ---------------------------------------------------------

def _visible_or_404(slug):
    try:
        project = projects.get_by_slug(slug)
    except DomainError:
        abort(404)
    if not projects.can_view(current_user, project):
        abort(404)
    return project


@bp.get("/p/<slug>")
@cached_for_anonymous
def show(slug):
    project = _visible_or_404(slug)
    member = projects.is_member(current_user, project)
    return render_template("projects/show.html", project=project, member=member,
                           documents=projects.current_documents(project), can_post_update=updates.can_post(project),
                           review=projects.latest_review(project) if member else None,
                           max_raise=projects.max_raise(project) if project.equity else None)


@bp.get("/p/<slug>/files/<int:document_id>")
def document(slug, document_id):
    project = _visible_or_404(slug)
    doc = next((d for d in project.documents if d.id == document_id), None)
    if doc is None:
        abort(404)
    response = send_from_directory(projects.upload_dir(), doc.stored_name, mimetype=doc.content_type,
                                   as_attachment=doc.content_type == "application/pdf",
                                   download_name=doc.filename, max_age=300)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
