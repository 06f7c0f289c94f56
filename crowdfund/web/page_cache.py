"""A cache of public pages for anonymous visitors.

A campaign's public page is the same for every anonymous visitor with the same language
and time zone, and it is by far the most requested page; the front page (with its searches)
comes next. `@cached_for_anonymous` keeps the rendered page, keyed by the path, the query
parameters a page may depend on (PAGE_PARAMS; not the utm_source or fbclid a link from a
social network brings, new on every click), the language and the time zone, so repeated
views cost no query and no template work. How long:

- PAGE_CACHE_SECONDS (0: off, the default outside production) is the most a page may lag
  behind a change: for that long a copy is served without asking whether anything changed.
  Under a launch's stream of pledges the page is rendered at most once per that time.
- With a shared store (below), a page that names what it shows (`depends_on`: the campaign
  page, its campaign and firm) is kept beyond that, up to PAGE_CACHE_MAX_SECONDS, for as long
  as none of it changed: the change tokens it was rendered with (crowdfund/change_tokens.py,
  read before the page's data) are still the current ones. So a long tail of quiet campaigns
  is rendered once every few minutes rather than on nearly every view.
- Something on the page that goes out of date by itself (the time left to a deadline) says
  when, with `valid_for`; the page is not kept past that.

Where it is kept is Flask-Caching's choice (`CACHE_TYPE`): in the memory of each process by
default ("SimpleCache"), or in Redis ("RedisCache" with CACHE_REDIS_URL, see
docs/PRODUCTION.md), where every web process on every machine shares it, so a page is
rendered once for the whole site rather than once per process. In front of a shared store
each process also keeps the pages it served, and serves its own copy unasked for up to
PAGE_CACHE_LOCAL_SECONDS, so the most viewed page costs no round trip to Redis on every view;
after that, while the page's change tokens are current, a check of the tokens alone (a few
bytes from Redis) lets the process serve its own copy again.

`Front`, in front of the Flask app, serves a visitor who plainly has no account to be
recognised by from this cache without Flask (no session, no login, no routing): for such a
view a bare Flask request costs more than all the rest.

What this is and is not:
- a cache, not state: dropping it (a restart, a Redis flush, Redis being down) loses
  nothing, and every process can serve every request; the totals and "time left" an
  anonymous visitor sees may lag by PAGE_CACHE_SECONDS (pledging and everything else
  always read the database);
- only for GET requests from visitors who are not logged in and have no flashed message
  waiting; a page whose rendering touched the session (a CSRF token, a new cookie) or
  that is not a 200 is never stored;
- never in the way: if the cache cannot be read or written, the page is rendered as usual.
"""
import logging
import math
import threading
import time
from functools import wraps
from urllib.parse import urlencode

from cachelib import SimpleCache
from flask import current_app, g, make_response, request, session
from werkzeug.http import HTTP_STATUS_CODES, parse_cookie
from werkzeug.wrappers import Request
from flask_login import current_user

from .. import change_tokens
from ..extensions import cache
from .i18n import locale_for, select_locale, select_timezone, zone_for

log = logging.getLogger(__name__)


# Pages this process served lately, in front of a shared cache (see above): about 10 MB at most.
_local = SimpleCache(threshold=1000)


def clear():
    forget_local_copies()
    cache.clear()


def forget_local_copies():
    """Drop this process's own copies (those in the shared store stay)."""
    _local.clear()
    _front.clear()


def valid_for(seconds):
    """Called while a page renders: what it shows goes out of date by itself in `seconds`."""
    g.page_valid_for = min(g.get("page_valid_for", math.inf), seconds)


def _shared():
    return current_app.config.get("CACHE_TYPE") not in change_tokens.LOCAL_STORES


def _cacheable_request():
    return (request.method == "GET" and not getattr(current_user, "is_authenticated", False)
            and "_flashes" not in session)


# The query parameters a cached page may show or depend on: the front page's search and page
# number, and the language. The others are left out of its key, and the page must not show
# them (`this_page`), so that visitors who came by links with different ones share a copy.
PAGE_PARAMS = ("q", "kind", "category", "status", "sort", "page", "lang")


def page_path(path, args):
    """`path` with only the query parameters in PAGE_PARAMS (`args`: a MultiDict), in that order."""
    kept = [(name, value) for name in PAGE_PARAMS for value in args.getlist(name)]
    return f"{path}?{urlencode(kept)}" if kept else path


def this_page():
    """For links back to this page (the language switch): a cached page's own path shows only the
    query parameters it depends on."""
    return page_path(request.path, request.args) if g.get("page_cached") else request.full_path


def _key():
    # The language and zone as chosen for the request (what flask-babel's get_locale() and
    # get_timezone() would be), without making Babel's locale and zone objects for a page
    # that comes from the cache.
    return page_key(page_path(request.path, request.args), select_locale(), select_timezone())


def page_key(path, locale, zone):
    return f"page:v3:{path}:{locale}:{zone}"


# An entry: (fresh until, expires at, {change token key: token}, body, status, mimetype), times
# in seconds since the epoch. Until "fresh until" it is served as it is; after that, until it
# expires, only while its change tokens are still the current ones.

def _read(key):
    """The entry of a copy that may be served, or None."""
    now = time.time()
    local = _local.get(key) if _shared() else None
    try:
        entry = _servable(local, now, current_app.config.get("PAGE_CACHE_LOCAL_SECONDS", 1))
        if entry is None:
            entry = _servable(cache.get(key), now, current_app.config["PAGE_CACHE_SECONDS"])
    except Exception as error:  # noqa: BLE001 - a cache outage must not become an error page
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
    if entry is None or now >= entry[1]:
        return None
    if now < entry[0]:
        return entry
    if entry[2] and change_tokens.current(entry[2]) == entry[2]:
        # Nothing it shows has changed since it was rendered: as good as a fresh render.
        return (min(now + unasked_for, entry[1]), *entry[1:])
    return None


def _unasked_until(entry, now):
    """Until when this process may serve its own copy of `entry` without asking."""
    return min(entry[0], now + current_app.config.get("PAGE_CACHE_LOCAL_SECONDS", 1))


def _keep_locally(key, entry, now):
    """This process's copy: served unasked for PAGE_CACHE_LOCAL_SECONDS at most, then, while
    its tokens are current, after a check of the tokens alone (no page from Redis)."""
    if not _shared() or entry[1] - now < 1:
        return
    _local.set(key, (_unasked_until(entry, now), *entry[1:]), timeout=int(entry[1] - now))


def _write(key, entry, now):
    try:
        cache.set(key, entry, timeout=math.ceil(entry[1] - now))
    except Exception as error:  # noqa: BLE001
        log.warning("page cache unwritable (%s)", error)
    _keep_locally(key, entry, now)


def _tokens_before_rendering(depends_on, args, kwargs):
    """The change tokens of what the page will show, read before its data (so a change
    committed while it renders leaves the copy with an old token); None when unknown."""
    if depends_on is None or not change_tokens.in_use(current_app):
        return None
    try:
        return change_tokens.current(depends_on(*args, **kwargs))
    except Exception as error:  # noqa: BLE001
        log.warning("change tokens unreadable (%s); the page is kept for PAGE_CACHE_SECONDS only", error)
        return None


def cached_for_anonymous(view=None, *, depends_on=None):
    """Serve `view` from the cache to anonymous visitors. `depends_on(**view_args)` names the
    change token keys of what the page shows (see crowdfund/change_tokens.py); without it a
    page is kept for PAGE_CACHE_SECONDS only."""
    if view is None:
        return lambda view: cached_for_anonymous(view, depends_on=depends_on)

    @wraps(view)
    def wrapper(*args, **kwargs):
        seconds = current_app.config.get("PAGE_CACHE_SECONDS") or 0
        if seconds <= 0 or not _cacheable_request():
            return view(*args, **kwargs)
        key = _key()
        entry = _read(key)
        if entry is not None:
            _servable_by_front(entry)
            body, status, mimetype = entry[3:]
            return current_app.response_class(body, status=status, mimetype=mimetype)
        started = time.time()
        g.page_cached = True
        tokens = _tokens_before_rendering(depends_on, args, kwargs)
        response = make_response(view(*args, **kwargs))
        if (response.status_code == 200 and not response.direct_passthrough and not session.modified
                and "csrf_token" not in g and "Set-Cookie" not in response.headers):
            longest = max(current_app.config.get("PAGE_CACHE_MAX_SECONDS") or 0, seconds) if tokens else seconds
            lifetime = min(longest, g.get("page_valid_for", math.inf))
            if lifetime >= 1:
                entry = (started + min(seconds, lifetime), started + lifetime, tokens or {},
                         response.get_data(), response.status_code, response.mimetype)
                _write(key, entry, started)
                _servable_by_front(entry)
        return response

    return wrapper


# -- the front --------------------------------------------------------------------------------

FRONT_TERMS = "crowdfund.page_cache.front_terms"  # in the WSGI environ: (until, expires at, tokens, mimetype)
_front = {}  # Front's copies: {key: (until, expires at, tokens, status line, headers, body)}
_front_lock = threading.Lock()
FRONT_MAX_PAGES = 1000


def _servable_by_front(entry):
    """The response this request gets is the page of `entry`: `Front` may send it again as it
    is for as long as this process's own copy is served unasked."""
    request.environ[FRONT_TERMS] = (_unasked_until(entry, time.time()), entry[1], entry[2], entry[5])


class Front:
    """WSGI middleware for a visitor who plainly has no account to be recognised by: a GET with no
    session or remember-me cookie and no Authorization header (so nobody logged in, no flashed
    message, no language switched in a session). Without going through Flask it sends them

    - a page response this process gave moments ago to a request just like theirs (the same
      host, path, PAGE_PARAMS, Accept-Language and zone cookie), as it was, on the terms of
      this process's own copy: unasked for a moment, then after a check of its change tokens;
    - else the page's copy in the page cache, read as `cached_for_anonymous` would read it (this
      process's own copy after a check of its change tokens, or the shared one), with the
      headers the app gave the last page it sent from the cache (the security headers; nothing
      in them depends on the page).

    Everything else, and any page not in the cache, goes to the app."""

    def __init__(self, wsgi_app, app):
        self.wsgi_app, self.app, self.config = wsgi_app, app, app.config
        self.headers = {}  # {mimetype: the headers of a page the app sent from the cache, but its length}

    def _key(self, environ):
        if environ.get("REQUEST_METHOD") != "GET" or "HTTP_AUTHORIZATION" in environ:
            return None
        zone = ""
        if environ.get("HTTP_COOKIE"):
            cookies = parse_cookie(environ)
            if (self.config.get("SESSION_COOKIE_NAME", "session") in cookies
                    or self.config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies):
                return None
            zone = cookies.get("tz", "")
        query = page_path("", Request(environ).args) if environ.get("QUERY_STRING") else ""
        return (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), environ.get("SCRIPT_NAME", ""),
                environ.get("PATH_INFO", ""), query, environ.get("HTTP_ACCEPT_LANGUAGE", ""), zone)

    def __call__(self, environ, start_response):
        key = self._key(environ)
        if key is None or not self.config.get("PAGE_CACHE_SECONDS"):
            return self.wsgi_app(environ, start_response)
        copy = _front.get(key)
        if copy is None or time.time() >= copy[0]:
            try:
                copy = self._checked(copy) or self._from_page_cache(environ)
            except Exception:  # noqa: BLE001 - never in the way: the app answers, as without this
                log.exception("page cache front failed; passing the request to the app")
                copy = None
            if copy is not None:
                self._keep(key, copy)
        if copy is not None:
            start_response(copy[3], list(copy[4]))
            return [copy[5]]
        answer = []

        def keep_answer(status, headers, exc_info=None):
            answer[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, keep_answer)
        terms = environ.get(FRONT_TERMS)
        if (terms is None or not answer or not answer[0].startswith("200 ")
                or any(name.lower() == "set-cookie" for name, _ in answer[1])):  # someone's own cookie
            return body
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        *terms, mimetype = terms
        self.headers[mimetype] = tuple((name, value) for name, value in answer[1] if name.lower() != "content-length")
        self._keep(key, (*terms, answer[0], tuple(answer[1]), data))
        return [data]

    def _checked(self, copy):
        """`copy` (it starts like a cache entry), to be sent unasked a moment more, if its change
        tokens are still current."""
        if copy is None:
            return None
        with self.app.app_context():
            try:
                return _servable(copy, time.time(), current_app.config.get("PAGE_CACHE_LOCAL_SECONDS", 1))
            except Exception:  # noqa: BLE001 - Redis away: the app renders, and says so once a request
                return None

    def _from_page_cache(self, environ):
        if not self.headers:  # the app has not sent a page from the cache yet
            return None
        visitor = Request(environ)
        with self.app.app_context():
            entry = _read(page_key(page_path(visitor.path, visitor.args),
                                   locale_for(visitor.args.get("lang"), None, visitor.accept_languages, self.config),
                                   zone_for(None, visitor.cookies.get("tz"))))
            if entry is None or entry[5] not in self.headers:
                return None
            body, status = entry[3], entry[4]
            return (_unasked_until(entry, time.time()), entry[1], entry[2], f"{status} {HTTP_STATUS_CODES[status]}",
                    (*self.headers[entry[5]], ("Content-Length", str(len(body)))), body)

    @staticmethod
    def _keep(key, copy):
        with _front_lock:
            if len(_front) >= FRONT_MAX_PAGES:
                now = time.time()
                for old in [k for k, kept in _front.items() if kept[0] <= now] or list(_front)[:len(_front) // 2]:
                    del _front[old]
            _front[key] = copy
