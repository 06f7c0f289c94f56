"""Release on delivery on the backer's receipt: where the reward is, and the two answers a
backer gives (it arrived; something is wrong)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from ...errors import DomainError, NotFound
from ...services import deliveries, delivery_records, receipts
from ..forms import Form, apply_domain_error
from . import bp

bp.add_app_template_global(delivery_records.receipt_delivery, "pledge_delivery")


class ConfirmReceiptForm(Form):
    confirm = SubmitField(_l("I received my reward"))


class ProblemForm(Form):
    reason = TextAreaField(
        _l("What is wrong?"),
        validators=[DataRequired(_l("Say what is wrong with the reward.")), Length(max=deliveries.REASON_MAX)],
        description=_l("The money held for your reward stays held until an admin looks at it."),
    )
    report = SubmitField(_l("Report a problem"))


@bp.app_context_processor
def _delivery_forms():
    return {"confirm_receipt_form": ConfirmReceiptForm, "problem_form": ProblemForm}


def _backers_pledge(pledge_id):
    try:
        pledge = receipts.get_pledge_for(current_user, pledge_id)
    except NotFound:
        abort(404)
    if pledge.backer_id != current_user.id:
        abort(404)
    return pledge


@bp.post("/pledges/<int:pledge_id>/confirm-receipt")
@login_required
def confirm_receipt(pledge_id):
    _backers_pledge(pledge_id)
    if not ConfirmReceiptForm().validate_on_submit():
        abort(400)
    try:
        deliveries.confirm_receipt(current_user, pledge_id)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("Thank you: the money held for your reward goes to the firm."), "success")
    return redirect(url_for("pledges.receipt", pledge_id=pledge_id))


@bp.post("/pledges/<int:pledge_id>/report-problem")
@login_required
def report_problem(pledge_id):
    pledge = _backers_pledge(pledge_id)
    form = ProblemForm()
    if form.validate_on_submit():
        try:
            deliveries.report_problem(current_user, pledge_id, form.reason.data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(
                _("Your report is sent. The money held for your reward stays held until an admin decides."), "success"
            )
            return redirect(url_for("pledges.receipt", pledge_id=pledge_id))
    return render_template(
        "pledges/receipt.html",
        r=receipts.receipt(pledge),
        cancel_form=None,
        problem=form,
    ), 422
