"""A short-lived cache of public pages for anonymous visitors.

A campaign's public page is the same for every anonymous visitor with the same language
and time zone, and it is by far the most requested page. `@cached_for_anonymous` keeps
the rendered page for PAGE_CACHE_SECONDS (0: off, the default outside production) in the
memory of the worker process that rendered it, keyed by the full path, the language and
the time zone, so repeated views cost no query and no template work.

What this is and is not:
- a cache, not state: dropping it (a restart, another process) loses nothing, and every
  process can serve every request; a page is at most PAGE_CACHE_SECONDS old (the totals
  and "time left" an anonymous visitor sees may lag by that much; pledging and everything
  else always read the database);
- only for GET requests from visitors who are not logged in and have no flashed message
  waiting; a page whose rendering touched the session (a CSRF token, a new cookie) or
  that is not a 200 is never stored;
- bounded: at most PAGE_CACHE_MAX_ENTRIES pages per process, least recently used first out.
"""
import threading
import time
from collections import OrderedDict
from functools import wraps

from flask import current_app, g, make_response, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user


class PageCache:
    def __init__(self):
        self._pages = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        now = time.monotonic()
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            if entry[0] <= now:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return entry[1]

    def put(self, key, page, seconds, max_entries):
        with self._lock:
            self._pages[key] = (time.monotonic() + seconds, page)
            self._pages.move_to_end(key)
            while len(self._pages) > max_entries:
                self._pages.popitem(last=False)

    def clear(self):
        with self._lock:
            self._pages.clear()


cache = PageCache()


def _cacheable_request():
    return (request.method == "GET" and not getattr(current_user, "is_authenticated", False)
            and "_flashes" not in session)


def cached_for_anonymous(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        seconds = current_app.config.get("PAGE_CACHE_SECONDS") or 0
        if seconds <= 0 or not _cacheable_request():
            return view(*args, **kwargs)
        key = (request.full_path, str(get_locale()), str(get_timezone()))
        page = cache.get(key)
        if page is not None:
            body, status, mimetype = page
            return current_app.response_class(body, status=status, mimetype=mimetype)
        response = make_response(view(*args, **kwargs))
        if (response.status_code == 200 and not response.direct_passthrough and not session.modified
                and "csrf_token" not in g and "Set-Cookie" not in response.headers):
            cache.put(key, (response.get_data(), response.status_code, response.mimetype), seconds,
                      current_app.config.get("PAGE_CACHE_MAX_ENTRIES", 1000))
        return response

    return wrapper
