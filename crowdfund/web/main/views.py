from flask import abort, current_app, redirect, render_template, request, session, url_for

from ...services.discovery import search_projects
from ..forms import safe_next
from ..page_cache import PAGE_PARAMS, cached_for_anonymous
from ..request_guards import whole_number
from . import bp
from .forms import DiscoverForm

PER_PAGE = 12


@bp.get("/")
@cached_for_anonymous  # the front page: where a launch's visitors land, with the campaign page
def index():
    form = DiscoverForm(request.args)
    search = form.cleaned()
    page = whole_number(request.args.get("page"), 9_999) or 1
    # No count of every match (the dearest query of a broad listing): the pages go on while
    # there is a next one, and the total is shown once this page is the last.
    found = search_projects(page=page, per_page=PER_PAGE, count=False, **search)
    if page > 1 and not found.items:
        abort(404)
    args = {key: request.args[key] for key in PAGE_PARAMS if key != "page" and request.args.get(key)}

    def page_url(number):
        return url_for("main.index", **args, page=number) if number > 1 else url_for("main.index", **args)

    searching = bool(
        search["q"] or search["kind"] or search["category"] or request.args.get("status") or request.args.get("sort")
    )
    return render_template("main/index.html", form=form, found=found, page_url=page_url, searching=searching)


@bp.get("/language/<code>")
def set_language(code):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    return redirect(safe_next(request.args.get("next")))


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
