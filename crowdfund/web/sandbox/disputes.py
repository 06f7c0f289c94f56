"""`/sandbox/disputes/<id>`: the sandbox's stand-in for the card network deciding a dispute.

GET shows the dispute as the processor's dashboard would; POST `outcome=under_review` (the
merchant sent its evidence), `outcome=won` (the money comes back) or `outcome=lost` (it
stays with the backer) records the decision in the sandbox's book with its
`charge.dispute.*` event, delivered once this request commits. Like the bank's page, it
carries no CSRF token and needs no login: no session of ours decides a card network's case.
"""

from flask import abort, redirect, render_template, request, url_for

from ...payments import get_gateway
from ...payments.sandbox_disputes import OUTCOMES
from . import bp


@bp.route("/disputes/<dispute_id>", methods=["GET", "POST"])
def dispute(dispute_id):
    gateway = get_gateway()
    op = gateway.operation(dispute_id) if gateway.name == "sandbox" else None
    if op is None or op["kind"] != "dispute":
        abort(404)
    if request.method == "POST":
        outcome = request.form.get("outcome")
        if outcome not in OUTCOMES:
            abort(400)
        # Only a dispute still open to that answer changes: a second click changes nothing.
        gateway.decide_dispute(dispute_id, outcome)
        return redirect(url_for("sandbox.dispute", dispute_id=dispute_id), 303)
    info = gateway.retrieve_dispute(dispute_id)
    return render_template("sandbox/dispute.html", dispute=info, open=info.status in OUTCOMES["won"])
