"""One commit per request, in one place.

Services only flush. A request that ends in a success or redirect commits what they did; a
request that ends in an error status rolls it back. Then whatever the request's committed
transactions asked for starts (crowdfund/after_commit.py): the mail it queued is handed to
delivery, the campaigns it closed to settlement, its sweeps marked in one round trip. A
workflow that committed steps of its own before an error (a pledge declined after its
reservation) has its committed work followed up too; the rolled-back part asked for nothing.
"""

from .. import after_commit
from ..extensions import db
from ..services.firm_changes import write_refusals


def init_app(app):
    @app.after_request
    def commit_or_rollback(response):
        if not db.session.registry.has():
            # This request never opened a database session (a page served from the page
            # cache, a static answer): nothing to commit, nothing asked for after a commit.
            return response
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        after_commit.run()
        # A refused attempt (a locked firm detail) is recorded whether or not the request
        # committed: the refusal is usually why it did not.
        if write_refusals(db.session):
            db.session.commit()
        return response
