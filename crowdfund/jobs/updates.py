"""Mailing founders' updates to their backers."""

from ..workflows import announcements
from . import job


@job("announce_updates", sweep=True)
def announce_updates():
    return {"announced": announcements.announce_pending()}
