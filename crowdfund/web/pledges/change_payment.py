"""Where the bank or the wallet sends a backer back after confirming a change's larger total.

The page only looks again (`pledge_change.check_change`): the webhook may have been first, and
either way the outcome is the same. The workflow commits its own steps; this view never commits.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale, gettext as _
from flask_login import login_required

from ...domain.money import format_money
from ...errors import DomainError
from ...models import PledgeChangeStatus as CS
from ...payments import GatewayError
from ...services import pledge_changes
from ...workflows import pledge_change
from . import bp
from .change import _changeable_or_404


@bp.get("/pledges/<int:pledge_id>/changes/<int:number>/return")
@login_required
def change_return(pledge_id, number):
    """Finish the change if its payment has an outcome; show it again while it still waits."""
    pledge = _changeable_or_404(pledge_id)  # the pledge's backer only
    change = pledge_changes.find_change(pledge.id, number)
    if change is None:
        abort(404)
    receipt = url_for("pledges.receipt", pledge_id=pledge_id)
    try:
        outcome = pledge_change.check_change(change.id)
    except DomainError as error:  # paid after the campaign closed: refunded at once
        flash(error.message, "error")
        return redirect(receipt, 303)
    except GatewayError:
        flash(
            _(
                "We could not reach the payment processor just now. Your pledge is shown below as it was; "
                "it changes as soon as the processor confirms the payment."
            ),
            "error",
        )
        return redirect(receipt, 303)
    change, pledge = outcome.change, outcome.pledge
    if change.status in (CS.DONE.value, CS.REFUND_PENDING.value):
        flash(_("Your pledge is changed. It is now %(amount)s.", amount=_money(pledge.amount, pledge)), "success")
        return redirect(receipt, 303)
    if change.status == CS.FAILED.value:
        flash(
            _(
                "Your pledge was not changed: the payment was not confirmed, so nothing was taken. "
                "It stays as it was, at %(amount)s.",
                amount=_money(pledge.amount, pledge),
            ),
            "error",
        )
        return redirect(receipt, 303)
    return render_template(
        "pledges/change_waiting.html",
        pledge=pledge,
        project=pledge.project,
        change=change,
        next_action=outcome.next_action,
        action_url=(outcome.next_action or {}).get("url"),
    )


def _money(amount, pledge):
    return format_money(amount, pledge.currency, locale=str(get_locale() or "en"))
