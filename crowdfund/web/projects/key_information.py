"""An equity offering's key investment information sheet: a page and a PDF
(services/key_information.py)."""

from flask import Response, abort, render_template

from ...services import key_information
from . import bp
from .access import visible_project_or_404


def _offering_or_404(slug):
    project = visible_project_or_404(slug)
    if project.kind != "equity" or project.equity is None:
        abort(404)
    return project


@bp.get("/p/<slug>/key-information")
def key_information_page(slug):
    project = _offering_or_404(slug)
    return render_template(
        "projects/key_information.html",
        project=project,
        title=key_information.title(project),
        sections=key_information.sheet(project),
    )


@bp.get("/p/<slug>/key-information.pdf")
def key_information_pdf(slug):
    project = _offering_or_404(slug)
    return Response(
        key_information.as_pdf(project),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="key-information-{project.slug}.pdf"',
            "Cache-Control": "private, max-age=300",
        },
    )
