"""Change tokens: which campaigns and firms a commit changed, for the caches of their pages.

Each campaign and each firm has a token, replaced with a new random one after every commit
that changed it. A cached public page (crowdfund/web/page_cache.py) records the tokens of
what it shows, read before the page's data was; while they are still the same, nothing it
shows has changed, and the page can be kept far longer than the lag allowed after a change.

Changes made through the ORM are found by themselves: any flushed Project, RewardTier,
EquityOffering, ProjectDocument, ProjectUpdate, StretchGoal or Firm. Code that changes those tables with a
Core UPDATE (the totals a pledge moves) says so with `campaign_changed`.

The tokens live in the page cache's store, and only while the page cache is on and that
store is shared (Flask-Caching's RedisCache in production, so every web and worker process
sees the same ones): a token in one process's memory would not tell the others. Losing them loses
nothing: a token that is gone, or that could not be written, makes the pages that depend on
it fall back on their short lifetime (PAGE_CACHE_SECONDS). A random token rather than a
counter, so that a token lost and made again never matches an old copy by chance.
"""

import logging
import secrets
from itertools import chain

from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from . import after_commit
from .extensions import cache
from .models import EquityOffering, Firm, Project, ProjectDocument, ProjectUpdate, RewardTier, StretchGoal

log = logging.getLogger(__name__)

CAMPAIGN_PARTS = (RewardTier, EquityOffering, ProjectDocument, ProjectUpdate, StretchGoal)
LOCAL_STORES = (None, "SimpleCache", "simple", "NullCache", "null")  # Flask-Caching's, per process


def campaign_key(project_id):
    return f"change:project:{project_id}"


def firm_key(firm_id):
    return f"change:firm:{firm_id}"


def campaign_changed(session, project_id):
    """For a Core UPDATE of a campaign's rows: replace its token when `session` commits."""
    after_commit.record(after_commit.CHANGE_TOKENS, campaign_key(project_id), session)


def in_use(app):
    """Are tokens kept (and pages kept longer for them)? Only in a store every process shares."""
    return bool(app.config.get("PAGE_CACHE_SECONDS")) and app.config.get("CACHE_TYPE") not in LOCAL_STORES


def current(keys):
    """{key: token} of `keys` as they are now (None for a key never changed or long unchanged)."""
    keys = list(keys)
    return dict(zip(keys, cache.get_many(*keys))) if keys else {}


def token_lifetime(app):
    # A token must outlive every page that recorded it: a page recorded before a token
    # expired and then made again would find the same "never changed" and look current.
    return 2 * max(app.config.get("PAGE_CACHE_MAX_SECONDS") or 0, app.config.get("PAGE_CACHE_SECONDS") or 0)


def _keys_of(obj):
    if isinstance(obj, Project):
        return (campaign_key(obj.id),)
    if isinstance(obj, Firm):
        return (firm_key(obj.id),)
    if isinstance(obj, CAMPAIGN_PARTS):
        # Loaded already in nearly every case; an expired one is read in this transaction.
        project_id = inspect(obj).dict.get("project_id") or obj.project_id
        return (campaign_key(project_id),) if project_id else ()
    return ()


@event.listens_for(Session, "after_flush")
def _note_changes(session, _flush_context):
    keys = {key for obj in chain(session.new, session.dirty, session.deleted) for key in _keys_of(obj)}
    if keys:
        after_commit.record_many(after_commit.CHANGE_TOKENS, keys, session)


def _replace_tokens(keys):
    """At each commit that changed campaigns or firms (after_commit.py): new tokens for them."""
    if not has_app_context() or not in_use(current_app):
        return
    try:
        cache.set_many({key: secrets.token_hex(8) for key in keys}, timeout=token_lifetime(current_app))
    except Exception as error:  # noqa: BLE001 - the commit stands; the pages fall back on their short lifetime
        log.warning("change tokens not replaced (%s): cached pages may lag up to PAGE_CACHE_SECONDS", error)


after_commit.register(after_commit.CHANGE_TOKENS, _replace_tokens, at_commit=True)
