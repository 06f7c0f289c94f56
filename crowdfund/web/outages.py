"""The database out of reach for a moment (a failover, a restart): an answer to try again, never a 500.

A request that lost its database connection before it committed anything is run once more,
from the start, on a new connection: nothing it did was kept, so the person never knows.
(Most dropped connections never get that far: the pool replaces one the server hung up on
before handing it out, crowdfund/database.py.) Otherwise, or when the second run fails too,
the answer is **503** with `Retry-After`:

- for a payment (backing a campaign, cancelling a pledge, the return from the bank) the
  card may have been charged before the connection dropped: the answer says the payment is
  being checked (API code `payment_being_checked`). The pledge stays open, and
  `flask pledges reconcile` finishes it and mails the backer the outcome (the receipt, or
  why it did not go through);
- anything else is `service_unavailable`: try again in a moment.

Errors that are not outages (a bug, a constraint) stay what they were.
"""

import logging

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError, TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from ..extensions import db, login_manager

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
COMMITTED = "crowdfund.committed"  # session.info: this session has committed something
# SQLSTATE classes of a server going away or not taking us now: 08 connection exception,
# 53 insufficient resources (too many connections), 57 operator intervention (a terminated
# backend, a shutdown, "the database system is starting up").
OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57")
# Requests during which a card may be charged or refunded: {endpoint: methods}.
PAYMENT_REQUESTS = {
    "pledges.back": {"POST"},
    "pledges.cancel": {"POST"},
    "pledges.payment_return": {"GET"},
    "api.place_pledge": {"POST"},
    "api.cancel_pledge": {"POST"},
    "sandbox.pay": {"POST"},
}


@event.listens_for(Session, "after_commit")
def _note_commit(session):
    session.info[COMMITTED] = True


def is_outage(error):
    """Is `error` (or what caused it) the database out of reach, rather than a bug?"""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, PoolTimeout):  # every connection busy, or none can be opened
            return True
        if isinstance(error, DBAPIError):
            if error.connection_invalidated:
                return True
            if isinstance(error, OperationalError) and type(error.orig).__module__.startswith("psycopg"):
                state = getattr(error.orig, "sqlstate", None)
                # No SQLSTATE: the client's own "connection refused / lost / timed out".
                return state is None or state[:2] in OUTAGE_SQLSTATE_CLASSES
        error = error.__cause__ or error.__context__
    return False


def init_app(app):
    """Wrap the app's request dispatch (before-request functions, the view, after-request
    functions, which commit): an outage is retried once or answered with a 503."""
    dispatch = app.full_dispatch_request

    def full_dispatch_request():
        try:
            return dispatch()
        except SQLAlchemyError as error:
            if not is_outage(error):
                raise
            first = error
        if not _committed():
            log.warning(
                "%s %s: the database connection dropped before anything was committed (%s); "
                "running the request once more",
                request.method,
                request.path,
                _reason(first),
            )
            _start_over()
            _rewind_uploads()
            try:
                return dispatch()
            except SQLAlchemyError as error:
                if not is_outage(error):
                    raise
                first = error
        log.warning(
            "%s %s: the database is out of reach (%s); answering 503", request.method, request.path, _reason(first)
        )
        _start_over()
        try:
            response = unavailable()
        except SQLAlchemyError:
            # Still out of reach (the visitor's account gives the page's language and menu):
            # answer as to a visitor who is not signed in.
            _start_over()
            g._login_user = login_manager.anonymous_user()
            response = unavailable()
        return app.finalize_request(response, from_error_handler=True)

    app.full_dispatch_request = full_dispatch_request


def _committed():
    return db.session.registry.has() and bool(db.session.info.get(COMMITTED))


def _reason(error):
    return getattr(error, "orig", None) or error


def _start_over():
    """Forget what the failed run did here: its session (rolled back) and what it kept in `g`."""
    try:
        db.session.remove()
    except SQLAlchemyError:  # the connection is gone already: nothing to roll back
        log.debug("rolling back after an outage failed", exc_info=True)
    for name in list(g):
        g.pop(name, None)


def _rewind_uploads():
    """The second run reads the uploaded files again from their first byte."""
    for upload in request.files.values():
        if upload.stream.seekable():
            upload.stream.seek(0)


def is_payment_request():
    return request.method in PAYMENT_REQUESTS.get(request.endpoint, ())


def unavailable():
    """The 503 answer for this request: JSON under /api/, a page elsewhere."""
    payment = is_payment_request()
    if payment:
        title = _("We are checking your payment")
        text = _(
            "Something on our side was interrupted while we handled your payment. If your card was "
            "charged, nothing is lost: we are checking the payment and will email you the outcome. "
            "Please do not pay again; sending the same pledge again will not charge you twice."
        )
    else:
        title = _("We will be right back")
        text = _("The site could not reach its database for a moment. Please try again in a few seconds.")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        from ..errors import json_error

        response, _status = json_error(
            503, text, code="payment_being_checked" if payment else "service_unavailable", headers=headers
        )
        return response
    page = render_template("errors/error.html", status=503, title=title, text=text)
    response = current_app.make_response((page, 503, headers))
    response.headers["Cache-Control"] = "no-store"
    return response
