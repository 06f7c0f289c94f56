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
each process also keeps the pages it served (up to PAGE_CACHE_LOCAL_BYTES of them, the least
recently served dropped first), and serves its own copy unasked for up to
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

from cachetools import LRUCache
from flask import current_app, g, make_response, request, session
from werkzeug.http import HTTP_STATUS_CODES, parse_cookie
from werkzeug.wrappers import Request
from flask_login import current_user

from .. import change_tokens
from ..extensions import cache
from .i18n import locale_for, select_locale, select_timezone, zone_for

log = logging.getLogger(__name__)


class LocalCopies:
    """This process's own copies of the pages it served lately, in front of a shared store
    ({page key: entry}). The least recently served go first once the pages pass `max_bytes`."""

    def __init__(self, max_bytes):
        self._pages = LRUCache(max_bytes, getsizeof=lambda entry: len(entry[3]) + 1024)  # + the rest of it
        self._lock = threading.Lock()

    def get(self, key, now):
        """The copy of `key` unless it expired."""
        with self._lock:
            entry = self._pages.get(key)
        return entry if entry is not None and now < entry[1] else None

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


_local = LocalCopies(0)  # sized by init_app


def init_app(app):
    """Size this process's own copies, and put `Front` in front of the app."""
    global _local
    _local = LocalCopies(app.config["PAGE_CACHE_LOCAL_BYTES"])
    app.wsgi_app = Front(app.wsgi_app, app)


def clear():
    forget_local_copies()
    cache.clear()


def forget_local_copies():
    """Drop this process's own copies (those in the shared store stay)."""
    _local.clear()
    _page_keys.clear()


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

def _read(key, *, quiet=False):
    """The entry of a copy that may be served, or None. `quiet`: an unreadable cache is not
    reported (the app, which will render the page, reports it)."""
    now = time.time()
    local = _local.get(key, now) if _shared() else None
    try:
        entry = _servable(local, now, current_app.config.get("PAGE_CACHE_LOCAL_SECONDS", 1))
        if entry is None:
            entry = _servable(cache.get(key), now, current_app.config["PAGE_CACHE_SECONDS"])
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
    if entry is None or now >= entry[1]:
        return None
    if now < entry[0]:
        return entry
    if entry[2] and change_tokens.current(entry[2]) == entry[2]:
        # Nothing it shows has changed since it was rendered: as good as a fresh render.
        return (min(now + unasked_for, entry[1]), *entry[1:])
    return None


def _keep_locally(key, entry, now):
    """This process's copy: served unasked for PAGE_CACHE_LOCAL_SECONDS at most, then, while
    its tokens are current, after a check of the tokens alone (no page from Redis)."""
    if not _shared() or entry[1] - now < 1:
        return
    until = min(entry[0], now + current_app.config.get("PAGE_CACHE_LOCAL_SECONDS", 1))
    _local.set(key, (until, *entry[1:]))


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

FROM_CACHE = "crowdfund.page_cache.mimetype"  # in the WSGI environ: this response is a cached page of that type
_page_keys = {}  # {Front's key of a request: the page key the app would use for it}
PAGE_KEYS_KEPT = 20_000


def _servable_by_front(entry):
    """The response this request gets is the page of `entry`, with the headers any cached page
    of its type gets: `Front` learns them from it."""
    request.environ[FROM_CACHE] = entry[5]


class Front:
    """WSGI middleware for a visitor who plainly has no account to be recognised by: a GET with no
    session or remember-me cookie and no Authorization header (so nobody logged in, no flashed
    message, no language switched in a session). Without going through Flask it sends them the
    page's copy in the page cache, read as `cached_for_anonymous` reads it (this process's own
    copy, unasked for a moment and then after a check of its change tokens, or the shared one),
    with the headers the app gave the last page of that type it sent from the cache (the
    security headers; nothing in them depends on the page).

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
        return (environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), environ.get("HTTP_ACCEPT_LANGUAGE", ""),
                zone)

    def __call__(self, environ, start_response):
        if not self.config.get("PAGE_CACHE_SECONDS"):  # the cache is off: nothing to serve or learn
            return self.wsgi_app(environ, start_response)
        key = self._key(environ)
        if key is None or not self.headers:
            return self._app(environ, start_response)
        try:
            entry = self._entry(key, environ)
        except Exception:  # noqa: BLE001 - never in the way: the app answers, as without this
            log.exception("page cache front failed; passing the request to the app")
            entry = None
        headers = self.headers.get(entry[5]) if entry is not None else None
        if headers is None:
            return self._app(environ, start_response)
        body, status = entry[3], entry[4]
        start_response(f"{status} {HTTP_STATUS_CODES[status]}", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _entry(self, key, environ):
        """The cache entry of the page this request asks for, if it may be served."""
        page_key = _page_keys.get(key)
        if page_key is not None:
            now = time.time()
            entry = _local.get(page_key, now)
            if entry is not None and now < entry[0]:
                return entry
        else:
            page_key = self._page_key(environ)
            if len(_page_keys) >= PAGE_KEYS_KEPT:
                _page_keys.clear()
            _page_keys[key] = page_key
        with self.app.app_context():
            return _read(page_key, quiet=True)  # if Redis is away, the app renders the page and says so

    def _page_key(self, environ):
        visitor = Request(environ)
        return page_key(page_path(visitor.path, visitor.args),
                        locale_for(visitor.args.get("lang"), None, visitor.accept_languages, self.config),
                        zone_for(None, visitor.cookies.get("tz")))

    def _app(self, environ, start_response):
        """The app's answer; the headers of a page it sends from the cache are learned."""
        answer = []

        def keep_answer(status, headers, exc_info=None):
            answer[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, keep_answer)
        mimetype = environ.get(FROM_CACHE)
        if (mimetype is not None and answer and answer[0].startswith("200 ")
                and not any(name.lower() == "set-cookie" for name, _ in answer[1])):  # someone's own cookie
            self.headers[mimetype] = tuple((name, value) for name, value in answer[1]
                                           if name.lower() != "content-length")
        return body
