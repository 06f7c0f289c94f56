"""Admin: release on delivery. Reported problems (release or refund), late campaigns (refund
every unshipped reward), refunds the processor refused, payouts that need a retry."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...errors import DomainError
from ...services import deliveries, delivery_records
from ...workflows import delivery_release
from ..forms import Form
from . import bp


@bp.get("/deliveries")
def deliveries_page():
    return render_template(
        "admin/deliveries.html",
        problems=delivery_records.problems(),
        late=delivery_records.late_campaigns(),
        parked=delivery_records.parked_refunds(),
        payouts=delivery_records.payouts_needing_attention(),
        form=Form(),
    )


def _decide(action, done_message, *args):
    if not Form().validate_on_submit():
        abort(400)
    try:
        action(current_user, *args)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(done_message, "success")
    return redirect(url_for("admin.deliveries_page"))


@bp.post("/deliveries/pledges/<int:pledge_id>/release")
def release_delivery(pledge_id):
    return _decide(
        deliveries.admin_release, _("The money held for pledge #%(id)s goes to the firm.", id=pledge_id), pledge_id
    )


@bp.post("/deliveries/pledges/<int:pledge_id>/refund")
def refund_delivery(pledge_id):
    return _decide(
        deliveries.admin_refund, _("The money held for pledge #%(id)s is being refunded.", id=pledge_id), pledge_id
    )


@bp.post("/deliveries/pledges/<int:pledge_id>/retry")
def retry_delivery_refund(pledge_id):
    return _decide(
        deliveries.retry_parked_refund, _("The refund of pledge #%(id)s is being retried.", id=pledge_id), pledge_id
    )


@bp.post("/deliveries/projects/<int:project_id>/refund-unshipped")
def refund_unshipped(project_id):
    return _decide(
        deliveries.admin_refund_unshipped, _("The money held for every unshipped reward is being refunded."), project_id
    )


@bp.post("/deliveries/payouts/<int:batch_id>/retry")
def retry_delivery_payout(batch_id):
    return _decide(
        lambda _admin, batch: delivery_release.retry_payout(batch),
        _("The payout is sent again with the next delivery sweep."),
        batch_id,
    )
