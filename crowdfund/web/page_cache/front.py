"""`Front`: cached pages sent to plainly anonymous visitors without going through Flask.

For such a view a bare Flask request (session, login, routing) costs more than all the rest.
"""

import logging
import time

from werkzeug.http import HTTP_STATUS_CODES, parse_cookie
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Request

from .. import security
from ..i18n import locale_for, regional_locale, zone_for
from . import store

log = logging.getLogger(__name__)

PAGE_KEYS_KEPT = 20_000
_page_keys = {}  # {Front's key of a request: the page key the app would use for it}

# The page depends on the visitor's cookies (none of a session, the time zone's): what Flask
# says too, having looked at the session to decide the page could come from the cache.
VARY = ("Vary", "Cookie")
_content_types = {}  # {mimetype: its Content-Type header}


def _content_type(mimetype):
    """The Content-Type header of `mimetype`, as Flask writes it (kept: it depends on nothing else)."""
    header = _content_types[mimetype] = ("Content-Type", get_content_type(mimetype, "utf-8"))
    return header


def forget_page_keys():
    _page_keys.clear()


class Front:
    """WSGI middleware for a visitor who plainly has no account to be recognised by: a GET with no
    session or remember-me cookie and no Authorization header (so nobody logged in, no flashed
    message, no language switched in a session). Without going through Flask it sends them the
    page's copy in the page cache, read as `cached_for_anonymous` reads it (this process's own
    copy, unasked for a moment and then after a check of its change tokens, or the shared one),
    with the headers any page gets (crowdfund/web/security.py), made for this response.

    Everything else, and any page not in the cache, goes to the app."""

    def __init__(self, wsgi_app, app):
        self.wsgi_app, self.app, self.config = wsgi_app, app, app.config

    def __call__(self, environ, start_response):
        if not self.config.get("PAGE_CACHE_SECONDS"):  # the cache is off: nothing to serve
            return self.wsgi_app(environ, start_response)
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        try:
            entry = self._entry(key, environ)
        except Exception:  # never in the way: the app answers, as without this
            log.exception("page cache front failed; passing the request to the app")
            entry = None
        if entry is None:
            return self.wsgi_app(environ, start_response)
        body, status, mimetype = entry.body, entry.status, entry.mimetype
        # The headers any page gets, made for this response; none kept from an earlier one.
        start_response(
            f"{status} {HTTP_STATUS_CODES[status]}",
            [
                _content_types.get(mimetype) or _content_type(mimetype),
                ("Content-Length", str(len(body))),
                *security.page_headers(self.config),
                VARY,
            ],
        )
        return [body]

    def _key(self, environ):
        if environ.get("REQUEST_METHOD") != "GET" or "HTTP_AUTHORIZATION" in environ:
            return None
        zone = ""
        if environ.get("HTTP_COOKIE"):
            cookies = parse_cookie(environ)
            if (
                self.config.get("SESSION_COOKIE_NAME", "session") in cookies
                or self.config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies
            ):
                return None
            zone = cookies.get("tz", "")
        return (
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),
            zone,
        )

    def _entry(self, key, environ):
        """The cache entry of the page this request asks for, if it may be served."""
        page_key = _page_keys.get(key)
        if page_key is not None:
            now = time.time()
            entry = store.local_copies.get(page_key, now)
            if entry is not None and now < entry.fresh_until:
                return entry
        else:
            page_key = self._page_key(environ)
            if len(_page_keys) >= PAGE_KEYS_KEPT:
                _page_keys.clear()
            _page_keys[key] = page_key
        with self.app.app_context():
            return store.read(page_key, quiet=True)  # if Redis is away, the app renders the page and says so

    def _page_key(self, environ):
        visitor = Request(environ)
        return store.page_key(
            store.page_path(visitor.path, visitor.args),
            regional_locale(
                locale_for(visitor.args.get("lang"), None, visitor.accept_languages, self.config),
                visitor.accept_languages,
            ),
            zone_for(None, visitor.cookies.get("tz")),
        )
