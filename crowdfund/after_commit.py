"""After the commit: what a transaction asks to happen once it has committed.

Code inside a transaction (a service, a workflow) records what its change calls for, and
nothing runs yet:

    after_commit.send_mail()                    # the outbox has new mail (services/notifications.py)
    after_commit.start_sweep("announce_updates")  # any other sweep (crowdfund/jobs)
    after_commit.start_settlement(project.id)   # a closed campaign's settlement, (re)started
    after_commit.retry_refund(pledge.id)        # a failed refund an admin sent back
    after_commit.record(CHANGE_TOKENS, key)     # a page's change token (change_tokens.py)

- When the transaction rolls back (or the session closes without committing), what it
  recorded is dropped.
- When it commits, what it recorded waits in the session, except the kinds whose handler
  runs *at* the commit (the change tokens: a cached page must never outlive a change,
  whoever committed it).
- The code that owns the transaction calls `run()` after its commit: the web request's unit
  of work, a job or CLI command, a workflow between its commits. Each kind's handler is
  called once with every value recorded since the last run (deduplicated): a request that
  queued mail and asked for two sweeps marks all three in one Redis round trip.

Handlers are registered at app start by the layer that does the work: `jobs.init_app`
(sweeps, settlements, refund retries) and `change_tokens` (its tokens). So a service says
what must happen and never imports a job. A savepoint's commit or rollback is not the
transaction's: its records wait for the outer transaction (what a rolled-back savepoint
recorded may then start a job that finds nothing to do; every handler here only ever makes
a job look again).
"""

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db

log = logging.getLogger(__name__)

# The kinds of work, and what their values are.
SWEEPS = "sweeps"  # names of sweep jobs (crowdfund/jobs/__init__.py), each started once
SETTLEMENTS = "settlements"  # ids of projects whose settlement is (re)started
REFUND_RETRIES = "refund_retries"  # ids of pledges whose failed refund is tried again
CHANGE_TOKENS = "change_tokens"  # cache keys of page change tokens, replaced at the commit itself
MAIL_SWEEP = "deliver_mail"  # the sweep that sends the outbox (crowdfund/jobs/mail.py)

_RECORDED = "crowdfund.after_commit.recorded"  # session.info: {kind: values} of the open transaction
_COMMITTED = "crowdfund.after_commit.committed"  # session.info: {kind: values} committed, waiting for run()

_handlers = {}  # kind -> handler(sorted values), in the order run() calls them
_at_commit = {}  # kind -> handler(set of values), called inside the commit


def register(kind, handler, *, at_commit=False):
    """Have `handler(values)` do the work of `kind`. `at_commit`: call it inside the commit
    itself (it must be quick and must not use the session), rather than at `run()`."""
    (_at_commit if at_commit else _handlers)[kind] = handler


def record(kind, value, session=None):
    """Ask for `value` of `kind` to be handled once `session`'s transaction commits."""
    (session or db.session).info.setdefault(_RECORDED, {}).setdefault(kind, set()).add(value)


def record_many(kind, values, session=None):
    (session or db.session).info.setdefault(_RECORDED, {}).setdefault(kind, set()).update(values)


def send_mail(session=None):
    record(SWEEPS, MAIL_SWEEP, session)


def start_sweep(name, session=None):
    record(SWEEPS, name, session)


def start_settlement(project_id, session=None):
    record(SETTLEMENTS, project_id, session)


def retry_refund(pledge_id, session=None):
    record(REFUND_RETRIES, pledge_id, session)


def run(session=None):
    """Hand what `session`'s committed transactions recorded to the handlers. Returns
    {kind: sorted values} of what was handed on. Never raises: the work is in the database
    already, and a periodic job picks up whatever a handler could not start."""
    session = session or db.session
    waiting = session.info.pop(_COMMITTED, None)
    if not waiting:
        return {}
    started = {}
    for kind, handler in _handlers.items():
        values = waiting.pop(kind, None)
        if values:
            started[kind] = sorted(values)
            _call(handler, kind, started[kind])
    for kind in waiting:
        log.error("nothing is registered to handle %r after a commit (crowdfund.jobs.init_app not run?)", kind)
    return started


def run_mail(session=None):
    """Only start delivering the mail `session`'s committed transactions queued: for a
    workflow between its commits (a settlement batch). Whatever else they asked for waits
    for `run()`, or for its periodic job. True if there was mail."""
    session = session or db.session
    sweeps = session.info.get(_COMMITTED, {}).get(SWEEPS)
    if not sweeps or MAIL_SWEEP not in sweeps:
        return False
    sweeps.discard(MAIL_SWEEP)
    _call(_handlers.get(SWEEPS), SWEEPS, [MAIL_SWEEP])
    return True


def _call(handler, kind, values):
    if handler is None:
        log.error("nothing is registered to handle %r after a commit (crowdfund.jobs.init_app not run?)", kind)
        return
    try:
        handler(values)
    except Exception:
        log.exception("after a commit, %s %s could not be started; a periodic job will pick them up", kind, values)


@event.listens_for(Session, "after_commit")
def _committed(session):
    # A savepoint released is not the transaction: what it recorded waits for the commit.
    if _RECORDED not in session.info or session.in_nested_transaction():
        return
    recorded = session.info.pop(_RECORDED)
    for kind, handler in _at_commit.items():
        values = recorded.pop(kind, None)
        if values:
            _call(handler, kind, values)
    if recorded:
        waiting = session.info.setdefault(_COMMITTED, {})
        for kind, values in recorded.items():
            waiting.setdefault(kind, set()).update(values)


@event.listens_for(Session, "after_transaction_end")
def _ended(session, transaction):
    # The outermost transaction ended: after a commit its records have moved on already, so
    # any still here were rolled back (or the session closed without committing).
    if transaction.parent is None and _RECORDED in session.info:
        del session.info[_RECORDED]
