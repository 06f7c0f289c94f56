"""Celery, built from the Flask app's config (used only when CELERY_BROKER_URL is set).

The usual Flask + Celery pattern: every task runs inside an app context of the Flask
app it was built from, so tasks use `db.session`, config and templates as the web does,
and commit their own work. Tasks are the registered jobs (`crowdfund.jobs.job`), named
``crowdfund.<job name>``. No result backend: jobs record their outcome in the database.

Config keys:
    CELERY_BROKER_URL          e.g. redis://127.0.0.1:6379/1 (required to use Celery)
    CELERY_TASK_DEFAULT_QUEUE  queue the tasks go to (default "crowdfund")
    CELERY_OPTIONS             optional dict of further Celery settings, applied last
"""
from celery import Celery, Task

from . import TASK_PREFIX, periodic_jobs, registered


def get_celery(app):
    """The Celery app for this Flask app (built once per broker URL and cached)."""
    url = app.config["CELERY_BROKER_URL"]
    cached = app.extensions.get("celery")
    if cached is None or cached.conf.broker_url != url:
        cached = make_celery(app)
        app.extensions["celery"] = cached
    return cached


def make_celery(app):
    class FlaskTask(Task):
        abstract = True

        def __call__(self, *args, **kwargs):
            with app.app_context():
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
    )
    celery.conf.update(app.config.get("CELERY_OPTIONS") or {})
    for name, fn in registered().items():
        celery.task(name=TASK_PREFIX + name)(fn)
    return celery
