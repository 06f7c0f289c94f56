"""The processor's `account.updated` webhooks: like payment events, they only make us look again.

An event names a connected account; what it says of it is not taken as the truth (anyone
could replay an old one). The account is *retrieved* from the processor
(`payout_onboarding.refresh_ref`) and its status recorded, before the event itself is
recorded as received, so a processor that cannot be reached makes the endpoint answer 503
and the event comes again. An account that is not one of ours costs no processor call.
"""

import logging

from ..extensions import db
from ..payments import GatewayError
from . import payout_onboarding

log = logging.getLogger(__name__)

EVENTS = {"account.updated"}


def look_again(event):
    """Refresh the account an `account.updated` event names. Returns its status, or None
    (another kind of event, or not one of our accounts). Commits its own steps."""
    if event.type not in EVENTS:
        return None
    account = (event.data or {}).get("object") or {}
    ref = account.get("id")
    if not isinstance(ref, str) or not ref:
        return None
    try:
        return payout_onboarding.refresh_ref(ref, note=f"after webhook {event.id}")
    except GatewayError as error:
        if error.transient:
            raise
        # The processor will never answer otherwise (an account it no longer has): asking
        # for the event again would not help.
        db.session.rollback()
        log.warning("Webhook %s: account %s could not be looked at: %s", event.id, ref, error)
        return None
