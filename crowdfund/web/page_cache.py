"""A short-lived cache of public pages for anonymous visitors.

A campaign's public page is the same for every anonymous visitor with the same language
and time zone, and it is by far the most requested page; the front page (with its searches)
comes next. `@cached_for_anonymous` keeps
the rendered page for PAGE_CACHE_SECONDS (0: off, the default outside production), keyed
by the full path, the language and the time zone, so repeated views cost no query and no
template work.

Where it is kept is Flask-Caching's choice (`CACHE_TYPE`): in the memory of each process by
default ("SimpleCache"), or in Redis ("RedisCache" with CACHE_REDIS_URL, see
docs/PRODUCTION.md), where every web process on every machine shares it, so a page is
rendered once per PAGE_CACHE_SECONDS for the whole site rather than once per process. In
front of a shared store each process also keeps the pages it served for up to
PAGE_CACHE_LOCAL_SECONDS, so the most viewed page costs no round trip to Redis on every view
(it costs about as much again as the bare request); an entry carries its expiry time, so
the local copy never outlives the shared one.

What this is and is not:
- a cache, not state: dropping it (a restart, a Redis flush, Redis being down) loses
  nothing, and every process can serve every request; a page is at most
  PAGE_CACHE_SECONDS old (the totals and "time left" an anonymous visitor sees may lag by
  that much; pledging and everything else always read the database);
- only for GET requests from visitors who are not logged in and have no flashed message
  waiting; a page whose rendering touched the session (a CSRF token, a new cookie) or
  that is not a 200 is never stored;
- never in the way: if the cache cannot be read or written, the page is rendered as usual.
"""
import logging
import time
from functools import wraps

from cachelib import SimpleCache
from flask import current_app, g, make_response, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user

from ..extensions import cache

log = logging.getLogger(__name__)


# Pages this process served lately, in front of a shared cache (see above).
_local = SimpleCache(threshold=500)


def clear():
    _local.clear()
    cache.clear()


def _shared():
    return current_app.config.get("CACHE_TYPE") not in (None, "SimpleCache", "simple", "NullCache", "null")


def _cacheable_request():
    return (request.method == "GET" and not getattr(current_user, "is_authenticated", False)
            and "_flashes" not in session)


def _key():
    return f"page:{request.full_path}:{get_locale()}:{get_timezone()}"


def _read(key):
    """(body, status, mimetype) of a fresh copy, or None."""
    entry = _local.get(key) if _shared() else None
    if entry is None:
        try:
            entry = cache.get(key)
        except Exception as error:  # noqa: BLE001 - a cache outage must not become an error page
            log.warning("page cache unreadable (%s); rendering", error)
            return None
        if entry is not None and _shared():
            _keep_locally(key, entry)
    if entry is None or entry[0] <= time.time():
        return None
    return entry[1:]


def _keep_locally(key, entry):
    seconds = min(current_app.config.get("PAGE_CACHE_LOCAL_SECONDS", 1), int(entry[0] - time.time()))
    if seconds >= 1:
        _local.set(key, entry, timeout=seconds)


def _write(key, page, seconds):
    entry = (time.time() + seconds, *page)
    try:
        cache.set(key, entry, timeout=seconds)
    except Exception as error:  # noqa: BLE001
        log.warning("page cache unwritable (%s)", error)
    if _shared():
        _keep_locally(key, entry)


def cached_for_anonymous(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        seconds = current_app.config.get("PAGE_CACHE_SECONDS") or 0
        if seconds <= 0 or not _cacheable_request():
            return view(*args, **kwargs)
        key = _key()
        page = _read(key)
        if page is not None:
            body, status, mimetype = page
            return current_app.response_class(body, status=status, mimetype=mimetype)
        response = make_response(view(*args, **kwargs))
        if (response.status_code == 200 and not response.direct_passthrough and not session.modified
                and "csrf_token" not in g and "Set-Cookie" not in response.headers):
            _write(key, (response.get_data(), response.status_code, response.mimetype), seconds)
        return response

    return wrapper
