"""The founder's project list, a new project, and the editor: basics or story, and documents."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...models import ProjectKind
from ...services.projects import access, basics, documents, submission
from ..forms import submit_form
from . import bp, story_images as story_images_view
from .access import own_project_or_404
from .forms import KIND_LABELS, BasicsForm, DocumentForm, NewProjectForm, StoryForm


def _document_kinds(project):
    kinds = []
    if project.status in access.EDITABLE | access.STORY_EDITABLE:
        kinds.append("cover")
    if project.kind == ProjectKind.EQUITY.value and project.status in access.EDITABLE:
        kinds.extend(documents.DISCLOSURE_KINDS)
    return kinds


def _render_editor(project, form=None, document_form=None, status=200, image_form=None):
    if form is None:
        if project.status in access.EDITABLE:
            form = BasicsForm(formdata=None, data=basics.basics_as_input(project))
        elif project.status in access.STORY_EDITABLE:
            form = StoryForm(formdata=None, data=basics.basics_as_input(project))
    kinds = _document_kinds(project)
    if document_form is None and kinds:
        document_form = DocumentForm(kinds, formdata=None)
    return render_template(
        "projects/edit.html",
        project=project,
        form=form,
        document_form=document_form,
        review=access.latest_review(project),
        documents=documents.current_documents(project),
        problems=submission.submission_problems(project),
        tiers_editable=project.kind == "reward" and project.status in access.EDITABLE | access.STORY_EDITABLE,
        locked=project.status in access.STORY_EDITABLE,
        **story_images_view.editor_context(project, image_form),
    ), status


@bp.get("/projects/")
@login_required
def mine():
    return render_template("projects/mine.html", projects=access.projects_for(current_user))


@bp.route("/projects/new", methods=["GET", "POST"])
@login_required
def new():
    firms = current_user.firms
    if not firms:
        flash(_("Register your firm first: every project belongs to a firm."), "info")
        return redirect(url_for("firms.new"))
    form = NewProjectForm(firms)

    def create():
        firm = next(f for f in firms if f.id == form.firm_id.data)
        return basics.create_project(current_user, firm, form.kind.data, form.data)

    outcome = submit_form(form, create)
    if outcome.done:
        flash(_("Your project is saved as a draft. Add the details, then submit it for review."), "success")
        return redirect(url_for("projects.edit", project_id=outcome.result.id))
    return render_template("projects/new.html", form=form, kind_labels=KIND_LABELS), outcome.status


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id):
    project = own_project_or_404(project_id)
    if request.method == "GET":
        return _render_editor(project)
    if project.status in access.EDITABLE:
        form = BasicsForm()
    elif project.status in access.STORY_EDITABLE:
        form = StoryForm()
    else:
        flash(_("This project cannot be edited now."), "error")
        return redirect(url_for("projects.edit", project_id=project.id))
    outcome = submit_form(form, lambda: basics.update_project(current_user, project, form.data))
    if outcome.done:
        flash(_("Saved."), "success")
        return redirect(url_for("projects.edit", project_id=project.id))
    return _render_editor(project, form=form, status=outcome.status)


@bp.post("/projects/<int:project_id>/documents")
@login_required
def upload(project_id):
    project = own_project_or_404(project_id)
    kinds = _document_kinds(project)
    if not kinds:
        abort(409)
    form = DocumentForm(kinds)

    def store():
        file = form.file.data
        documents.upload_document(current_user, project, form.kind.data, file.filename, file.mimetype, file.stream)

    outcome = submit_form(form, store)
    if outcome.done:
        flash(_("The file is uploaded."), "success")
        return redirect(url_for("projects.edit", project_id=project.id, _anchor="documents"))
    return _render_editor(project, document_form=form, status=outcome.status)
