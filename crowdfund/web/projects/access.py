"""Finding the project a request names, or answering 404."""

from flask import abort
from flask_login import current_user

from ...errors import DomainError
from ...services.projects import access


def own_project_or_404(project_id):
    """A project of the signed-in founder's firm."""
    try:
        project = access.get_project(project_id)
    except DomainError:
        abort(404)
    if not access.is_member(current_user, project):
        abort(404)  # someone else's project: do not even confirm it exists
    return project


def visible_project_or_404(slug):
    """A project the viewer may see (`access.can_view`)."""
    try:
        project = access.get_by_slug(slug)
    except DomainError:
        abort(404)
    if not access.can_view(current_user, project):
        abort(404)
    return project
