"""Payment processor webhooks: each event is recorded and handled exactly once."""
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import WebhookEvent, utcnow
from ..payments import webhook_handlers
from . import use_case


@use_case
def receive_event(event):
    """Record `event` (a verified WebhookEventData) and run its handlers.

    Returns False, doing nothing, when the event was received before: processors deliver
    at least once, and a retry after our 500 or a lost 200 brings the same event id again.
    """
    if db.session.get(WebhookEvent, event.id) is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(WebhookEvent(id=event.id, type=event.type, received_at=utcnow()))
            db.session.flush()
    except IntegrityError:
        return False  # the same event, delivered twice at once: the other request handles it
    webhook_handlers.dispatch(event)
    return True
