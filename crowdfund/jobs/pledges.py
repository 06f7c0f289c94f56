"""Reconcile open pledges in the background: lost webhooks, outages, abandoned payments."""

from . import job


@job("reconcile_pledges")
def reconcile_pledges():
    from .. import after_commit
    from ..workflows import reconcile

    summary = reconcile.reconcile_pending()
    after_commit.run()  # the receipts and notices it queued
    return summary
