"""WSGI entry point: `gunicorn wsgi:app`."""
from crowdfund import create_app

app = create_app()
