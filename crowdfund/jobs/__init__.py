"""Background jobs: one registry, two ways to run.

Register a job with the `job` decorator in any module of this package (modules here are
found and imported automatically, so adding a job touches no shared file)::

    # crowdfund/jobs/campaigns.py
    from . import job

    @job("close_due_campaigns")
    def close_due_campaigns():
        ...                        # does its work, then db.session.commit() itself
        return {"closed": n}

    @job("settle_campaign")
    def settle_campaign(project_id):   # plain, JSON-serialisable arguments: ids, not rows
        ...

and run it with ``enqueue("settle_campaign", project.id)``:

- with ``CELERY_BROKER_URL`` set, the job is sent to the broker as the Celery task
  ``crowdfund.<name>`` and a worker (``celery -A crowdfund.jobs.celery_worker worker``)
  runs it later; ``enqueue`` returns the Celery ``AsyncResult`` (no result backend: do not
  wait on it);
- otherwise it runs here and now, in-process and synchronously (``make run``, the tests),
  and ``enqueue`` returns what the job returned.

Either way a job runs in an application context of its own, so it has a database session
of its own and commits its own work; it never sees, commits or rolls back its caller's
transaction. Call ``enqueue`` only after the work the job depends on has committed: code
inside a transaction records what must start instead (crowdfund/after_commit.py), and the
handlers `init_app` registers here start it once the owner of the transaction has committed
and called ``after_commit.run()``: the web request's unit of work does, and so must a job or
CLI command that commits work which asked for more (otherwise the periodic runs pick it up).
(A Celery worker could otherwise start before the commit; in-process, the job's session
would wait on the request's uncommitted row locks.)

A *sweep* (``@job("deliver_mail", sweep=True)``) takes no arguments and handles whatever
is waiting in a table. ``enqueue_sweep(name)`` starts one unless a run is already queued
and has not started yet: that run will see everything committed before the call, so a
second would only repeat it. A thousand pledges a second thus wake the mailer a few times,
not a thousand (with a Redis broker; otherwise every call enqueues).

Periodic jobs are listed in `PERIODIC`; Celery beat runs them when a broker is configured
(`celery -A crowdfund.jobs.celery_worker beat`). Without a broker, an in-process
scheduler can use `periodic_jobs(config)` for the same table.
"""

import importlib
import logging
import pkgutil
import threading
import time

from flask import current_app

log = logging.getLogger(__name__)

_REGISTRY = {}
_SWEEPS = set()
_NOT_JOB_MODULES = {"celery_app", "celery_worker"}
_discovered = False
_discovering = threading.RLock()
BROKER_AWAY_UNTIL = "crowdfund.broker_away_until"  # app.extensions: time.monotonic() before which no job is sent

# Job name -> how often it runs: seconds, or the name of a config key holding seconds.
# Entries whose job is not registered are left out of every schedule.
PERIODIC = {
    "deliver_mail": 60,
    "announce_updates": 60,
    "announce_goals": 60,  # a backed campaign reached its goal (started after the pledge's commit too)
    "send_reminders": 300,  # "Remind me": REMINDER_LEAD_SECONDS before a deadline, give or take this
    "close_due_campaigns": "SCHEDULER_INTERVAL",
    "deliver_sandbox_webhooks": 5,  # retries and held-back events; new ones go after their commit
    "reconcile_pledges": "PLEDGE_RECONCILE_INTERVAL",
    # Commitments not reconfirmed in time after a material change (closing runs it first too).
    "expire_reconfirmations": 60,
    "reconcile_books": 24 * 3600,  # the ledger against the processor's books, mailed to admins on a difference
    # Payouts whose delay, reserve or balance back-off has run out (hours or days: hourly is
    # soon enough), and settlements or retried refunds a crash left unfinished.
    "resume_settlements": 3600,
    # Release on delivery: receipt timeouts, late rewards, refunds, daily payouts (jobs/deliveries.py).
    "sweep_deliveries": "DELIVERY_SWEEP_INTERVAL",
}

TASK_PREFIX = "crowdfund."


class UnknownJob(LookupError):
    pass


class BrokerAway(RuntimeError):
    """The broker could not be reached moments ago (CELERY_BROKER_BACKOFF): the job was not sent."""


def job(name, *, sweep=False):
    """Register the decorated function as the job `name` (returned unchanged); `sweep`: see
    `enqueue_sweep`."""

    def register(fn):
        existing = _REGISTRY.get(name)
        if (
            existing is not None
            and existing is not fn
            and (existing.__module__, existing.__qualname__) != (fn.__module__, fn.__qualname__)
        ):
            raise ValueError(f"Two jobs are called {name!r}: {existing.__module__} and {fn.__module__}.")
        _REGISTRY[name] = fn
        if sweep:
            _SWEEPS.add(name)
        return fn

    return register


def discover():
    """Import every module of this package once, so each `@job` has registered itself."""
    global _discovered
    if _discovered:
        return
    with _discovering:  # a thread that comes second waits until every job is registered
        if _discovered:
            return
        for module in pkgutil.iter_modules(__path__):
            if module.name not in _NOT_JOB_MODULES:
                importlib.import_module(f"{__name__}.{module.name}")
        _discovered = True


def init_app(app):
    """At app start: the handlers that start, once a transaction has committed, the work it
    recorded (crowdfund/after_commit.py). Sweeps first: the mail goes before a settlement
    that runs in-process to its end."""
    from .. import after_commit
    from .settlement import start_refund_retries, start_settlements

    after_commit.register(after_commit.SWEEPS, start_sweeps)
    after_commit.register(after_commit.SETTLEMENTS, start_settlements)
    after_commit.register(after_commit.REFUND_RETRIES, start_refund_retries)


def registered():
    """{name: function} of every known job."""
    discover()
    return dict(_REGISTRY)


def get(name):
    discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownJob(f"No job is registered as {name!r}; known: {', '.join(sorted(_REGISTRY))}.") from None


def periodic_jobs(config):
    """[(name, seconds)] of the registered periodic jobs, with intervals read from `config`."""
    jobs = registered()
    schedule = []
    for name, every in PERIODIC.items():
        if name in jobs:
            seconds = config.get(every) if isinstance(every, str) else every
            schedule.append((name, float(seconds)))
    return schedule


def enqueue(name, *args, **kwargs):
    """Run job `name` through Celery when a broker is configured, otherwise right here."""
    fn = get(name)
    app = current_app._get_current_object()
    if app.config.get("CELERY_BROKER_URL"):
        return _send(app, name, args, kwargs)
    return run_in_process(app, fn, *args, **kwargs)


def _send(app, name, args, kwargs):
    """Send the job to the broker, unless it was away moments ago. Celery tries a broker that
    refuses connections for about a second before giving up: after such a failure the jobs
    of the next CELERY_BROKER_BACKOFF seconds fail at once (BrokerAway), rather than each
    holding its request up as long."""
    if broker_away(app):
        raise BrokerAway(f"The job broker could not be reached moments ago; {name} was not sent.")
    from kombu.exceptions import OperationalError as BrokerUnreachable

    from .celery_app import get_celery

    try:
        return get_celery(app).send_task(TASK_PREFIX + name, args=args, kwargs=kwargs)
    except BrokerUnreachable:
        app.extensions[BROKER_AWAY_UNTIL] = time.monotonic() + float(app.config.get("CELERY_BROKER_BACKOFF") or 0)
        raise


def broker_away(app):
    """Was `app`'s broker unreachable moments ago (jobs are not sent to it now)?"""
    return time.monotonic() < app.extensions.get(BROKER_AWAY_UNTIL, 0.0)


def is_sweep(name):
    discover()
    return name in _SWEEPS


def enqueue_sweep(name):
    """`enqueue(name)`, unless a run of the sweep `name` is queued and not started yet.

    Returns what `enqueue` returned, or None when the queued run covers this call. The
    run clears its mark as it starts, before it reads anything (`celery_app`), so a call
    that finds the mark set was made after a commit that run will see."""
    return enqueue(name) if _not_queued([name]) else None


def _not_queued(names):
    """Of the sweeps `names`, those with no run queued, marked as queued now: with Celery, one
    round trip to the broker's Redis for all of them (a pledge's commit starts two sweeps)."""
    for name in names:
        if not is_sweep(name):
            raise ValueError(f"{name!r} is not a sweep; use enqueue().")
    app = current_app._get_current_object()
    if not app.config.get("CELERY_BROKER_URL"):
        return list(names)
    from .celery_app import mark_sweeps_queued

    return mark_sweeps_queued(app, names)


def start_sweeps(names):
    """`enqueue_sweep` for each of `names`, marking them all in one round trip. Never raises:
    a sweep that could not be started is logged; its periodic run does the work."""
    names = sorted(names)
    if not names:
        return
    if broker_away(current_app):  # not even marked: a mark with no run behind it would hold the next ones back
        log.warning(
            "sweeps %s not started: the job broker could not be reached moments ago; their periodic "
            "runs will do the work",
            ", ".join(names),
        )
        return
    try:
        names = _not_queued(names)
    except Exception:
        log.exception("sweeps %s could not be marked as queued; sending them anyway", ", ".join(names))
    for name in names:
        try:
            enqueue(name)
        except Exception as error:
            _unmark(name)
            if isinstance(error, BrokerAway):
                log.warning("sweep %s not started (%s); its periodic run will do the work", name, error)
            else:
                log.exception("sweep %s could not be started; its periodic run will do the work", name)


def _unmark(name):
    """A sweep marked as queued that could not be sent: clear its mark, so that the next commit
    sends a run rather than count on this one (the mark would expire by itself, later)."""
    app = current_app._get_current_object()
    if app.config.get("CELERY_BROKER_URL"):
        from .celery_app import clear_sweep_mark

        clear_sweep_mark(app, name)


def run_in_process(app, fn, *args, **kwargs):
    # A fresh app context gives the job its own `g` and its own database session
    # (Flask-SQLAlchemy scopes sessions by app context), as a Celery worker would.
    with app.app_context():
        return fn(*args, **kwargs)
