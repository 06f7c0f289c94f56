"""Where cached pages are kept, and which copy may be served.

Flask-Caching's store (`CACHE_TYPE`) holds them: the memory of each process by default
("SimpleCache"), or Redis ("RedisCache" with CACHE_REDIS_URL, see docs/PRODUCTION.md), where
every web process on every machine shares it, so a page is rendered once for the whole site
rather than once per process. In front of a shared store each process also keeps the pages it
served (up to PAGE_CACHE_LOCAL_BYTES of them, the least recently served dropped first), and
serves its own copy unasked for up to PAGE_CACHE_LOCAL_SECONDS, so the most viewed page costs
no round trip to Redis on every view; after that, while the page's change tokens are current,
a check of the tokens alone (a few bytes from Redis) lets the process serve its own copy again.
"""

import logging
import math
import threading
import time
from typing import NamedTuple
from urllib.parse import urlencode

from cachetools import LRUCache
from flask import current_app

from ... import change_tokens
from ...extensions import cache

log = logging.getLogger(__name__)

ENTRY_OVERHEAD_BYTES = 1024  # what an entry holds besides its body, roughly, for LocalCopies' budget
_new_tuple = tuple.__new__  # makes a PageEntry from a plain tuple without a Python-level call


class PageEntry(NamedTuple):
    """A cached page. Times are seconds since the epoch: until `fresh_until` it is served as it
    is; after that, until `expires_at`, only while its change tokens are still the current ones."""

    fresh_until: float
    expires_at: float
    tokens: dict  # {change token key: token}, as read before the page was rendered
    body: bytes
    status: int
    mimetype: str

    def with_fresh_until(self, until):
        """This entry, served as it is until `until`."""
        return _new_tuple(PageEntry, (until, *self[1:]))


def _from_store(stored):
    """The entry of what the store holds: a plain tuple in PageEntry's order, which is quicker to
    unpickle (the store unpickles it on every read) and reads the same whichever code wrote it."""
    return None if stored is None else _new_tuple(PageEntry, stored)


class LocalCopies:
    """This process's own copies of the pages it served lately, in front of a shared store
    ({page key: PageEntry}). The least recently served go first once the pages pass `max_bytes`."""

    def __init__(self, max_bytes):
        self._pages = LRUCache(max_bytes, getsizeof=lambda entry: len(entry.body) + ENTRY_OVERHEAD_BYTES)
        self._lock = threading.Lock()

    def get(self, key, now):
        """The copy of `key` unless it expired."""
        with self._lock:
            entry = self._pages.get(key)
        return entry if entry is not None and now < entry.expires_at else None

    def set(self, key, entry):
        with self._lock:
            try:
                self._pages[key] = entry
            except ValueError:  # larger than all of them together: not kept
                self._pages.pop(key, None)

    def clear(self):
        with self._lock:
            self._pages.clear()

    def __iter__(self):
        with self._lock:
            return iter(list(self._pages))


local_copies = LocalCopies(0)  # sized by page_cache.init_app

# The query parameters a cached page may show or depend on: the front page's search and page
# number, and the language. The others are left out of its key, and the page must not show
# them (`this_page`), so that visitors who came by links with different ones share a copy.
PAGE_PARAMS = ("q", "kind", "category", "status", "sort", "page", "lang")


def page_path(path, args):
    """`path` with only the query parameters in PAGE_PARAMS (`args`: a MultiDict), in that order."""
    kept = [(name, value) for name in PAGE_PARAMS for value in args.getlist(name)]
    return f"{path}?{urlencode(kept)}" if kept else path


def page_key(path, locale, zone):
    return f"page:v3:{path}:{locale}:{zone}"


def shared():
    return current_app.config.get("CACHE_TYPE") not in change_tokens.LOCAL_STORES


def read(key, *, quiet=False):
    """The entry of a copy of `key` that may be served, or None. `quiet`: an unreadable cache
    is not reported (the app, which will render the page, reports it)."""
    now = time.time()
    local = local_copies.get(key, now) if shared() else None
    try:
        entry = _servable(local, now, current_app.config.get("PAGE_CACHE_LOCAL_SECONDS", 1))
        if entry is None:
            entry = _servable(_from_store(cache.get(key)), now, current_app.config["PAGE_CACHE_SECONDS"])
    except Exception as error:  # noqa: BLE001 - a cache outage must not become an error page
        if not quiet:
            log.warning("page cache unreadable (%s); rendering", error)
        return None
    if entry is None:
        return None
    if entry is not local:
        _keep_locally(key, entry, now)
    return entry


def _servable(entry, now, unasked_for):
    """`entry` if it may be served now; refreshed to be served `unasked_for` seconds more if
    its change tokens had to be checked; None if it may not."""
    if entry is None or now >= entry.expires_at:
        return None
    if now < entry.fresh_until:
        return entry
    if entry.tokens and change_tokens.current(entry.tokens) == entry.tokens:
        # Nothing it shows has changed since it was rendered: as good as a fresh render.
        return entry.with_fresh_until(min(now + unasked_for, entry.expires_at))
    return None


def _keep_locally(key, entry, now):
    """This process's copy: served unasked for PAGE_CACHE_LOCAL_SECONDS at most, then, while
    its tokens are current, after a check of the tokens alone (no page from Redis)."""
    if not shared() or entry.expires_at - now < 1:
        return
    until = min(entry.fresh_until, now + current_app.config.get("PAGE_CACHE_LOCAL_SECONDS", 1))
    local_copies.set(key, entry.with_fresh_until(until))


def write(key, entry, now):
    try:
        cache.set(key, tuple(entry), timeout=math.ceil(entry.expires_at - now))
    except Exception as error:  # noqa: BLE001
        log.warning("page cache unwritable (%s)", error)
    _keep_locally(key, entry, now)
