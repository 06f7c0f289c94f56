"""Mailing founders' updates to their backers."""
from ..services import updates
from . import job


@job("announce_updates", sweep=True)
def announce_updates():
    return {"announced": updates.announce_pending()}
