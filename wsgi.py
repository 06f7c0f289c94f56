"""WSGI entry point: `gunicorn wsgi:app`."""

from crowdfund import create_app
from crowdfund.warm_up import warm_up

app = create_app()
warm_up(app)  # before this process serves anyone (see crowdfund/warm_up.py)
