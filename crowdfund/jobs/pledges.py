"""Reconcile open pledges in the background: lost webhooks, outages, abandoned payments."""
from . import job


@job("reconcile_pledges")
def reconcile_pledges():
    from ..workflows import reconcile
    from .settlement import after_commit

    summary = reconcile.reconcile_pending()
    after_commit()  # the receipts and notices it queued
    return summary
