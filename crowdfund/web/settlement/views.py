"""Statements (founders, admins), share holdings (investors) and the share register export."""

from flask import Response, abort, render_template, stream_with_context
from flask_login import current_user, login_required

from ...errors import DomainError
from ...services import portfolio, statements
from . import bp


def _project_for_statement(project_id):
    try:
        project = statements.get_project(project_id)
        statements.require_statement_access(current_user, project)
    except DomainError:
        abort(404)  # another firm's project: do not even confirm it exists
    return project


@bp.get("/projects/<int:project_id>/statement")
@login_required
def statement(project_id):
    project = _project_for_statement(project_id)
    return render_template("settlement/statement.html", project=project, data=statements.statement(project))


@bp.get("/projects/<int:project_id>/statement.csv")
@login_required
def statement_csv(project_id):
    project = _project_for_statement(project_id)
    return Response(
        statements.statement_csv(project),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="statement-{project.slug}.csv"'},
    )


@bp.get("/projects/<int:project_id>/register.csv")
@login_required
def register_csv(project_id):
    project = _project_for_statement(project_id)
    if project.kind != "equity":
        abort(404)
    return Response(
        stream_with_context(statements.register_csv(project)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="share-register-{project.slug}.csv"'},
    )


@bp.get("/me/holdings")
@login_required
def holdings():
    return render_template("settlement/holdings.html", portfolio=portfolio.holdings_of(current_user))
