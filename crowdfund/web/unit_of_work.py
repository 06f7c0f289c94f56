"""One commit per request, in one place.

Services only flush. A request that ends in a success or redirect commits what
they did; a request that ends in an error status rolls it back. Work that must
happen after a commit registers with `after_commit`. Mail queued by the request
(`services.notifications`) is handed to delivery, and campaigns the request closed to
settlement, after the commit automatically.
"""
from flask import g

from ..extensions import db
from ..jobs.settlement import after_commit as run_after_commit, after_rollback
from ..services.firm_changes import write_refusals


def after_commit(callback):
    """Run `callback()` once this request's transaction has committed."""
    g.setdefault("after_commit", []).append(callback)


def init_app(app):
    @app.after_request
    def commit_or_rollback(response):
        if not db.session.registry.has():
            # This request never opened a database session (a page served from the page
            # cache, a static answer): nothing to commit, nothing queued after a commit.
            for callback in g.pop("after_commit", []) if response.status_code < 400 else []:
                callback()
            return response
        if response.status_code < 400:
            db.session.commit()
            for callback in g.pop("after_commit", []):
                callback()
            run_after_commit()
        else:
            db.session.rollback()
            after_rollback()
        # A refused attempt (a locked firm detail) is recorded whether or not the request
        # committed: the refusal is usually why it did not.
        write_refusals(db.session)
        return response
