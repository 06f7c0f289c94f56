"""`/sandbox/onboard/<acct id>`: the sandbox's stand-in for Stripe's hosted onboarding.

GET shows the account as the processor would ask about it; POST `outcome=verified` (the
firm gave everything asked: payouts enabled) or `outcome=restricted` (it did not: payouts
disabled) records the answer in the sandbox's book with its `account.updated` event, and
sends the browser back to the `return_url` of the last link made for the account. Like the
bank's page, it carries no CSRF token and needs no login: whoever holds the link answers.
"""

from flask import abort, redirect, render_template, request

from ...payments import get_gateway
from ...payments.sandbox_accounts import OUTCOMES
from . import bp


@bp.route("/onboard/<account_id>", methods=["GET", "POST"])
def onboard(account_id):
    gateway = get_gateway()
    account = gateway.account(account_id) if gateway.name == "sandbox" else None
    if account is None:
        abort(404)
    return_url = (account.get("extra") or {}).get("return_url")
    if request.method == "POST":
        outcome = request.form.get("outcome")
        if outcome not in OUTCOMES:
            abort(400)
        account = gateway.finish_onboarding(account_id, outcome)
        if return_url:
            return redirect(return_url, 303)
    return render_template("sandbox/onboard.html", account=account, return_url=return_url)
