"""A firm's payout account on the web: set it up with the processor, come back, look again.

The payment processor's onboarding pages (Stripe's, or the sandbox's stand-in) collect
what it needs; ours only start it (`payout_account`), receive the browser back
(`payout_return`: the status is asked of the processor then, never taken from the URL) and
give a fresh link when the processor says one expired (`payout_refresh`).
"""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...errors import DomainError
from ...workflows import payout_onboarding
from ..auth.two_factor import fresh_code_or_prompt
from ..request_guards import whole_number
from . import bp
from .forms import PayoutForm
from .views import own_firm_or_404, refresh_url, return_url


@bp.post("/<int:firm_id>/payout-account")
@login_required
def payout_account(firm_id):
    """ "Set up payouts" (no account yet), "Continue setup", or "Use a different account" (`replace`)."""
    firm = own_firm_or_404(firm_id)
    form = PayoutForm()
    if not form.validate_on_submit():
        abort(400)
    # Where the firm's money goes: with two-factor sign-in, a code from the last few minutes first.
    prompt = fresh_code_or_prompt(back_url=url_for("firms.show", firm_id=firm.id), keep=("replace",))
    if prompt is not None:
        return prompt
    try:
        _account, url = payout_onboarding.start(
            current_user, firm.id, return_url=return_url, refresh_url=refresh_url, replace=bool(form.replace.data)
        )
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("firms.show", firm_id=firm_id))
    return redirect(url, 303)


@bp.get("/<int:firm_id>/payout-account/return")
@login_required
def payout_return(firm_id):
    firm = own_firm_or_404(firm_id)
    status = payout_onboarding.refresh_quietly(firm.id)
    if status == "verified":
        flash(_("The payout account is verified: money raised can be paid out to it."), "success")
    elif status == "restricted":
        flash(
            _(
                "The payment processor needs more information before it can pay out to this account. "
                "Continue the setup."
            ),
            "warning",
        )
    else:
        flash(
            _(
                "The payout account is not verified yet. The payment processor will tell us when it is; "
                "you can also continue the setup."
            ),
            "info",
        )
    return redirect(url_for("firms.show", firm_id=firm.id))


@bp.get("/<int:firm_id>/payout-account/refresh")
@login_required
def payout_refresh(firm_id):
    """Where the processor sends someone whose onboarding link expired: a new link. With
    `account=<id>`: the firm's proposed account (a change request's) rather than its current one."""
    firm = own_firm_or_404(firm_id)
    account_id = whole_number(request.args.get("account")) or 0
    try:
        url = payout_onboarding.onboarding_url(
            current_user, firm.id, account_id, return_url=return_url, refresh_url=refresh_url
        )
    except DomainError as error:
        flash(error.message, "error")
        url = None
    return redirect(url or url_for("firms.show", firm_id=firm.id), 303 if url else 302)
