"""The public project page at /p/<slug> and its files."""

from flask import abort, render_template, send_from_directory
from flask_login import current_user

from ... import change_tokens
from ...services import campaign_pages, change_history, comments, reminders, updates
from ...services.projects import access, documents, equity_terms
from ..page_cache import cached_for_anonymous
from . import bp
from .access import visible_project_or_404


def _campaign_and_firm(slug):
    ids = access.ids_by_slug(slug)
    return (change_tokens.campaign_key(ids.id), change_tokens.firm_key(ids.firm_id)) if ids else ()


@bp.get("/p/<slug>")
@cached_for_anonymous(depends_on=_campaign_and_firm)
def show(slug):
    project = visible_project_or_404(slug)
    member = access.is_member(current_user, project)
    return render_template(
        "projects/show.html",
        project=project,
        member=member,
        documents=documents.current_documents(project),
        can_post_update=updates.can_post(project),
        review=access.latest_review(project) if member else None,
        max_raise=equity_terms.max_raise(project) if project.equity else None,
        end_reason=campaign_pages.end_reason(project),
        conversation=comments.conversation(project),
        changes=change_history.public_changes(project) if project.has_changes else [],
        # Per-person bits: anonymous visitors (the cached page) cost no query for them.
        updates_unlocked=updates.readable(current_user, project),
        reminder_set=reminders.is_set(current_user, project),
    )


@bp.get("/p/<slug>/files/<int:document_id>")
def document(slug, document_id):
    project = visible_project_or_404(slug)
    doc = next((d for d in project.documents if d.id == document_id), None)
    if doc is None:
        abort(404)
    response = send_from_directory(
        documents.upload_dir(),
        doc.stored_name,
        mimetype=doc.content_type,
        as_attachment=doc.content_type == "application/pdf",
        download_name=doc.filename,
        max_age=300,
    )
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
