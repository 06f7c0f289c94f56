"""Payment processor webhooks: each event is recorded and handled exactly once."""

from ..database import insert_new_returning
from ..domain.clock import utcnow
from ..extensions import db
from ..models import WebhookEvent
from ..payments import webhook_handlers

_EVENTS = WebhookEvent.__table__


def receive_event(event):
    """Record `event` (a verified WebhookEventData) and run its handlers (flush only).

    Returns False, doing nothing, when the event was received before: processors deliver
    at least once, and a retry after our 500 or a lost 200 brings the same event id again.
    One INSERT ... ON CONFLICT DO NOTHING: the same event delivered twice at once waits
    for the first delivery's transaction, then writes nothing.
    """
    written = db.session.execute(
        insert_new_returning(_EVENTS, "id", _EVENTS.c.id),
        [{"id": event.id, "type": event.type, "received_at": utcnow()}],
    ).first()
    if written is None:
        return False
    webhook_handlers.dispatch(event)
    return True
