"""One commit per request, in one place.

Services only flush. A request that ends in a success or redirect commits what
they did; a request that ends in an error status rolls it back. Work that must
happen after a commit (sending mail) registers with `after_commit`.
"""
from flask import g

from ..extensions import db


def after_commit(callback):
    """Run `callback()` once this request's transaction has committed."""
    g.setdefault("after_commit", []).append(callback)


def init_app(app):
    @app.after_request
    def commit_or_rollback(response):
        if response.status_code < 400:
            db.session.commit()
            for callback in g.pop("after_commit", []):
                callback()
        else:
            db.session.rollback()
        return response
