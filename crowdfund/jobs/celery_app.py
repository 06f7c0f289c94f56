"""Celery, built from the Flask app's config (used only when CELERY_BROKER_URL is set).

The usual Flask + Celery pattern: every task runs inside an app context of the Flask
app it was built from, so tasks use `db.session`, config and templates as the web does,
and commit their own work. Tasks are the registered jobs (`crowdfund.jobs.job`), named
``crowdfund.<job name>``. No result backend: jobs record their outcome in the database.

Config keys:
    CELERY_BROKER_URL          e.g. redis://127.0.0.1:6379/1 (required to use Celery)
    CELERY_TASK_DEFAULT_QUEUE  queue the tasks go to (default "crowdfund")
    CELERY_OPTIONS             optional dict of further Celery settings, applied last

A sweep queued through `enqueue_sweep` leaves a mark in the broker's Redis
(``<queue>:sweep-queued:<job>``, SET NX) that the task deletes as it starts. The mark
expires after SWEEP_MARK_SECONDS, so a task lost with its broker delays the work at most
that long (or until the periodic run); with a broker other than Redis there is no mark
and every sweep is sent.
"""

import logging
import threading

import redis
from celery import Celery, Task

from ..pools import celery_pool_options, redis_options
from . import TASK_PREFIX, is_sweep, periodic_jobs, registered

log = logging.getLogger(__name__)

SWEEP_MARK_SECONDS = 300


# Built once per app, under this lock, when a process's first requests come in threads at once.
_building = threading.RLock()


def get_celery(app):
    """The Celery app for this Flask app (built once per broker URL and cached)."""
    url = app.config["CELERY_BROKER_URL"]
    cached = app.extensions.get("celery")
    if cached is None or cached.conf.broker_url != url:
        with _building:
            cached = app.extensions.get("celery")
            if cached is None or cached.conf.broker_url != url:
                cached = app.extensions["celery"] = make_celery(app)
    return cached


def make_celery(app):
    class FlaskTask(Task):
        abstract = True

        def __call__(self, *args, **kwargs):
            with app.app_context():
                name = self.name.removeprefix(TASK_PREFIX)
                if is_sweep(name):
                    clear_sweep_mark(app, name)
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask, set_as_current=False)
    celery.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        result_backend=None,
        task_ignore_result=True,
        task_default_queue=app.config.get("CELERY_TASK_DEFAULT_QUEUE") or "crowdfund",
        task_serializer="json",
        accept_content=["json"],
        # A task is acknowledged after it ran, so a worker that dies mid-job leaves the
        # task for another worker; every job is written to be safe to run twice.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
        beat_schedule={
            name.replace("_", "-"): {"task": TASK_PREFIX + name, "schedule": seconds}
            for name, seconds in periodic_jobs(app.config)
        },
        **celery_pool_options(app.config),  # every request thread may queue a job at once
    )
    celery.conf.update(app.config.get("CELERY_OPTIONS") or {})
    for name, fn in registered().items():
        celery.task(name=TASK_PREFIX + name)(fn)
    return celery


def _marks(app):
    """A Redis client on the broker (None when the broker is not Redis), one per process."""
    url = app.config["CELERY_BROKER_URL"]
    if not url.startswith(("redis://", "rediss://")):
        return None
    cached = app.extensions.get("celery_sweep_marks")
    if cached is None or cached[0] != url:
        with _building:
            cached = app.extensions.get("celery_sweep_marks")
            if cached is None or cached[0] != url:
                cached = app.extensions["celery_sweep_marks"] = (
                    url,
                    redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, **redis_options(app.config)),
                )
    return cached[1]


def _mark_key(app, name):
    return f"{app.config.get('CELERY_TASK_DEFAULT_QUEUE') or 'crowdfund'}:sweep-queued:{name}"


def mark_sweeps_queued(app, names):
    """Mark a run of each sweep in `names` as queued, in one round trip: the names that were
    not marked already (send those)."""
    client = _marks(app)
    if client is None:
        return list(names)
    try:
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.set(_mark_key(app, name), "1", nx=True, ex=SWEEP_MARK_SECONDS)
        return [name for name, newly in zip(names, pipe.execute()) if newly]
    except redis.RedisError:
        log.warning("could not mark sweeps %s as queued; sending them anyway", ", ".join(names), exc_info=True)
        return list(names)


def clear_sweep_mark(app, name):
    client = _marks(app)
    if client is None:
        return
    try:
        client.delete(_mark_key(app, name))
    except redis.RedisError:  # the mark expires by itself; until then calls rely on this run
        log.warning("could not clear the queued mark of sweep %s", name, exc_info=True)
