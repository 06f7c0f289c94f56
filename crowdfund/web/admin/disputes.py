"""Admin: disputes (chargebacks), their evidence deadlines and outcomes, and what firms owe
or are owed after one (services/dispute_admin.py, services/disputes.py, workflows/dispute_events.py)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ...extensions import db
from ...models import Dispute
from ...payments import GatewayError
from ...services import dispute_admin
from ...workflows import dispute_events
from ..forms import Form
from . import bp


@bp.get("/disputes")
def disputes_list():
    rows = dispute_admin.for_admin()
    return render_template(
        "admin/disputes.html",
        disputes=rows,
        open_count=sum(1 for d in rows if d.open),
        balances=dispute_admin.firm_balances(),
        form=Form(),
    )


@bp.post("/disputes/<int:dispute_id>/refresh")
def dispute_refresh(dispute_id):
    """Ask the processor about the dispute again (a webhook that never came), then settle
    with the firm's account (a reversal that failed, or a payout owed again)."""
    if not Form().validate_on_submit():
        abort(400)
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None:
        abort(404)
    ref = dispute.processor_ref
    try:
        dispute_events.refresh(ref)
    except GatewayError as error:
        db.session.rollback()
        flash(_("The payment processor could not be asked: %(reason)s", reason=str(error)), "error")
    else:
        flash(_("Dispute %(ref)s was looked at again.", ref=ref), "success")
    return redirect(url_for("admin.disputes_list"))
