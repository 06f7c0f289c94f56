"""`@cached_for_anonymous`: a view whose page anonymous visitors get from the cache."""

import logging
import math
import time
from functools import wraps

from flask import current_app, g, make_response, request, session
from flask_login import current_user

from ... import change_tokens
from ..i18n import regional_locale, select_locale, select_timezone
from . import store
from .store import PageEntry

log = logging.getLogger(__name__)


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
        entry = store.read(key)
        if entry is not None:
            return current_app.response_class(entry.body, status=entry.status, mimetype=entry.mimetype)
        started = time.time()
        g.page_cached = True
        tokens = _tokens_before_rendering(depends_on, args, kwargs)
        response = make_response(view(*args, **kwargs))
        if (
            response.status_code == 200
            and not response.direct_passthrough
            and not session.modified
            and "csrf_token" not in g
            and "Set-Cookie" not in response.headers
        ):
            longest = max(current_app.config.get("PAGE_CACHE_MAX_SECONDS") or 0, seconds) if tokens else seconds
            lifetime = min(longest, g.get("page_valid_for", math.inf))
            if lifetime >= 1:
                store.write(
                    key,
                    PageEntry(
                        fresh_until=started + min(seconds, lifetime),
                        expires_at=started + lifetime,
                        tokens=tokens or {},
                        body=response.get_data(),
                        status=response.status_code,
                        mimetype=response.mimetype,
                    ),
                    started,
                )
        return response

    return wrapper


def valid_for(seconds):
    """Called while a page renders: what it shows goes out of date by itself in `seconds`."""
    g.page_valid_for = min(g.get("page_valid_for", math.inf), seconds)


def this_page():
    """For links back to this page (the language switch): a cached page's own path shows only the
    query parameters it depends on."""
    return store.page_path(request.path, request.args) if g.get("page_cached") else request.full_path


def _cacheable_request():
    return (
        request.method == "GET" and not getattr(current_user, "is_authenticated", False) and "_flashes" not in session
    )


def _key():
    # The language and zone as chosen for the request (what flask-babel's get_locale() and
    # get_timezone() would be), without making Babel's locale and zone objects for a page
    # that comes from the cache.
    return store.page_key(
        store.page_path(request.path, request.args),
        regional_locale(select_locale(), request.accept_languages),  # en_GB and en_US write dates apart
        select_timezone(),
    )


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
