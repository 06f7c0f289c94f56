"""Work a web process would otherwise do on its first requests, done before it serves any.

A fresh gunicorn worker compiles each template on its first render and imports and builds
Celery on the first commit that queues mail; left to the first requests, that work is paid
by the first backers a new worker serves (after each deploy or worker restart), whose pledges
are then noticeably slower than the next ones. `wsgi.py` calls `warm_up` as the worker loads
the app, so it is paid before the worker accepts anyone.
"""

TEMPLATE_SUFFIXES = (".html", ".txt", ".xml")


def warm_up(app):
    """Compile every template and, when a broker is configured, build the Celery app.

    Opens no connection (safe before a fork). Returns the number of templates compiled."""
    env = app.jinja_env
    names = env.list_templates(filter_func=lambda name: name.endswith(TEMPLATE_SUFFIXES))
    for name in names:
        env.get_template(name)
    if app.config.get("CELERY_BROKER_URL"):
        from .jobs.celery_app import get_celery

        get_celery(app).finalize()
    return len(names)
