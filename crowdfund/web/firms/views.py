from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...errors import DomainError
from ...services import firms
from ..forms import prefilled_form, submit_form
from . import bp
from .forms import FirmForm


def _own_firm_or_404(firm_id):
    try:
        firm = firms.get_firm(firm_id)
    except DomainError:
        abort(404)
    if not firm.has_member(current_user):
        abort(404)  # someone else's firm: do not even confirm it exists
    return firm


@bp.get("/")
@login_required
def index():
    return render_template("firms/index.html", firms=current_user.firms)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = FirmForm()
    outcome = submit_form(form, lambda: firms.register_firm(current_user, form.data))
    if outcome.done:
        firm = outcome.result
        flash(_("%(name)s is registered. You can now create a project for it.", name=firm.legal_name), "success")
        return redirect(url_for("firms.show", firm_id=firm.id))
    return render_template("firms/form.html", form=form, firm=None), outcome.status


@bp.get("/<int:firm_id>")
@login_required
def show(firm_id):
    return render_template("firms/show.html", firm=_own_firm_or_404(firm_id))


@bp.route("/<int:firm_id>/edit", methods=["GET", "POST"])
@login_required
def edit(firm_id):
    firm = _own_firm_or_404(firm_id)
    form = prefilled_form(FirmForm, obj=firm)
    outcome = submit_form(form, lambda: firms.update_firm(current_user, firm, form.data))
    if outcome.done:
        flash(_("The firm's details are saved."), "success")
        return redirect(url_for("firms.show", firm_id=firm.id))
    return render_template("firms/form.html", form=form, firm=firm), outcome.status
