"""The backer's own pledges: the list split into pledges and failed payment attempts, with
totals per currency, and the confirmation step before a cancellation."""

from dataclasses import dataclass, field

from flask import abort, render_template, request
from flask_login import current_user, login_required

from ...errors import NotFound
from ...services import receipts
from ..forms import safe_next
from . import bp
from .forms import CancelForm

# Money that reached escrow and is still the backer's commitment (or the firm's now).
COUNTED = ("held", "released")


@dataclass
class MyPledges:
    receipts: list = field(default_factory=list)  # every pledge that took money or may still
    attempts: list = field(default_factory=list)  # payments that never went through: no money moved
    totals: list = field(default_factory=list)  # [(currency, minor units)] of COUNTED pledges
    campaigns: int = 0


def my_pledges(user):
    mine = MyPledges()
    totals = {}
    for r in receipts.pledges_of(user):
        if r.escrow == "not_charged":
            mine.attempts.append(r)
            continue
        mine.receipts.append(r)
        if r.status in COUNTED:
            totals[r.currency] = totals.get(r.currency, 0) + r.amount
    mine.totals = sorted(totals.items())
    mine.campaigns = len({r.project.id for r in mine.receipts if r.status in COUNTED})
    return mine


@bp.get("/pledges/<int:pledge_id>/cancel")
@login_required
def confirm_cancel(pledge_id):
    """What cancelling would do, and the button that does it (POST to `pledges.cancel`)."""
    try:
        pledge = receipts.get_pledge_for(current_user, pledge_id)
    except NotFound:
        abort(404)
    if pledge.backer_id != current_user.id:
        abort(404)
    r = receipts.receipt(pledge)
    target = safe_next(request.args.get("next"), "pledges.mine")
    form = CancelForm(formdata=None, next=target)
    return render_template("pledges/cancel_confirm.html", r=r, form=form, back_to=target)
