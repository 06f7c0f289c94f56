"""The sandbox payment processor's own pages, registered only when it is the gateway.

`/sandbox/pay/<id>` stands in for the bank's 3-D Secure page and for Alipay's and WeChat
Pay's pages (NextAction.url); `/sandbox/onboard/<acct id>` for Stripe's onboarding of a
firm's payout account; `/sandbox/disputes/<id>` for the card network deciding a dispute.
A bank's page knows nothing of our session, so these carry no
CSRF token and need no login: the payment's random id, known to whoever was sent there, is
the key (as the processor's own hosted page would use it).
"""

from flask import Blueprint

from ...extensions import csrf

bp = Blueprint("sandbox", __name__)
csrf.exempt(bp)


def register(app):
    """The pages, the delivery of the sandbox's webhooks after each commit, and its CLI."""
    from ...jobs.sandbox_webhooks import sandbox_cli, wake_delivery
    from ...payments.sandbox import EVENTS_HOOK

    app.register_blueprint(bp, url_prefix="/sandbox")
    app.extensions[EVENTS_HOOK] = wake_delivery
    app.cli.add_command(sandbox_cli)  # flask sandbox deliver-webhooks


from . import disputes, onboarding, views
