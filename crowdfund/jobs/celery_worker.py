"""Entry module for Celery's command line (needs CELERY_BROKER_URL, e.g. FLASK_CELERY_BROKER_URL):

    celery -A crowdfund.jobs.celery_worker worker --loglevel INFO
    celery -A crowdfund.jobs.celery_worker beat --loglevel INFO     # the periodic jobs

The Flask app is built with `create_app()` (CROWDFUND_CONFIG, DATABASE_URL, FLASK_* as
for the web), and `app` is the Celery app Celery looks for.
"""

from crowdfund import create_app
from crowdfund.jobs.celery_app import get_celery

flask_app = create_app()
if not flask_app.config.get("CELERY_BROKER_URL"):
    raise RuntimeError(
        "Set CELERY_BROKER_URL (e.g. FLASK_CELERY_BROKER_URL='\"redis://127.0.0.1:6379/1\"') "
        "to run a Celery worker; without it jobs run in-process."
    )
app = get_celery(flask_app)
