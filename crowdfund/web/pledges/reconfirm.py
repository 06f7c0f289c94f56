"""Reconfirming an equity commitment after a material change to its offering
(services/material_changes.py): the button on the receipt and in "My pledges" (signed in), and
the page the mail's signed link opens (no sign-in: the link is the credential). A GET only
shows the page; the POST form acts."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import HiddenField, SubmitField

from ...errors import DomainError, NotFound, PermissionDenied
from ...services import material_changes, receipts
from ...services.reconfirmation_mail import investor_of
from ...services.signed_links import LinkRefused
from ..forms import Form, safe_next
from . import bp

bp.add_app_template_global(material_changes.waits, "waits_for_reconfirmation")
bp.add_app_template_global(material_changes.latest_change, "latest_material_change")


class ReconfirmForm(Form):
    next = HiddenField()
    submit = SubmitField(_l("Reconfirm my investment"))


def _reconfirmed_message(pledge):
    return _("Your investment in %(title)s stands: thank you for reconfirming it.", title=pledge.project.title)


@bp.post("/pledges/<int:pledge_id>/reconfirm")
@login_required
def reconfirm(pledge_id):
    try:
        receipts.get_pledge_for(current_user, pledge_id)
    except NotFound:
        abort(404)
    form = ReconfirmForm()
    target = safe_next(form.next.data, "pledges.mine")
    if not form.validate_on_submit():
        flash(_("This form has expired. Please try again."), "error")
        return redirect(target)
    try:
        pledge = material_changes.reconfirm(current_user, pledge_id)
    except PermissionDenied:
        abort(403)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_reconfirmed_message(pledge), "success")
    return redirect(target)


@bp.route("/pledges/<int:pledge_id>/reconfirm/<token>", methods=["GET", "POST"])
def reconfirm_link(pledge_id, token):
    try:
        investor = investor_of(pledge_id, token)
        pledge = receipts.get_pledge_for(investor, pledge_id)
    except NotFound:  # no such pledge (or an id past the column)
        abort(404)
    except LinkRefused as refusal:
        return render_template("pledges/reconfirm.html", refused=refusal.message), 400
    form, status, done = ReconfirmForm(), 200, False
    if form.validate_on_submit():
        try:
            pledge = material_changes.reconfirm(investor, pledge_id)
        except DomainError as error:
            form.form_errors.append(error.message)
            status = error.status
        else:
            done = True
    elif form.is_submitted():
        status = 422
    return render_template(
        "pledges/reconfirm.html",
        pledge=pledge,
        project=pledge.project,
        form=form,
        done=done,
        done_message=_reconfirmed_message(pledge) if done else None,
        receipt_url=url_for("pledges.receipt", pledge_id=pledge.id),
    ), status
