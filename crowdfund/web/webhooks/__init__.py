"""Webhooks from the payment processor: POST /webhooks/<gateway name>.

Not a page for people: no CSRF token (the processor's signature proves who sent it), JSON
answers. 200 means "received, do not send again", also for an event seen before.
"""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from . import views
