"""Admin: the settlement monitor, parked refunds and payout retries."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...errors import DomainError
from ...services import statements
from ...workflows import change_refund_failures, settlement
from ..forms import Form
from . import bp


@bp.get("/settlements")
def settlements():
    return render_template(
        "admin/settlements.html",
        overview=statements.settlement_overview(),
        parked=statements.parked_pledges(),
        change_refunds=change_refund_failures.waiting(),
        change_refund_amount=change_refund_failures.refunded_amount,
        form=Form(),
    )


@bp.post("/settlements/pledges/<int:pledge_id>/retry")
def retry_pledge(pledge_id):
    if not Form().validate_on_submit():
        abort(400)
    try:
        settlement.retry_parked(pledge_id, admin=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The refund of pledge #%(id)s is being retried.", id=pledge_id), "success")
    return redirect(url_for("admin.settlements"))


@bp.post("/settlements/changes/<int:change_id>/retry")
def retry_change_refund(change_id):
    """A pledge change's refund the backer's bank refused: sent again once this request commits."""
    if not Form().validate_on_submit():
        abort(400)
    try:
        change = change_refund_failures.retry_later(change_id, admin=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The refund of pledge #%(id)s is being retried.", id=change.pledge_id), "success")
    return redirect(url_for("admin.settlements"))


@bp.post("/settlements/<int:settlement_id>/retry-payout")
def retry_payout(settlement_id):
    if not Form().validate_on_submit():
        abort(400)
    try:
        settlement.retry_payout(settlement_id, admin=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The payout is being retried."), "success")
    return redirect(url_for("admin.settlements"))
