from flask import abort, current_app, redirect, render_template, request, session

from ...services.projects import live_projects
from ..forms import safe_next
from . import bp


@bp.get("/")
def index():
    return render_template("main/index.html", projects=live_projects(12))


@bp.get("/language/<code>")
def set_language(code):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    return redirect(safe_next(request.args.get("next")))


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
