"""A cache of public pages for anonymous visitors.

A campaign's public page is the same for every anonymous visitor with the same language
and time zone, and it is by far the most requested page; the front page (with its searches)
comes next. `@cached_for_anonymous` (decorator.py) keeps the rendered page, keyed by the path,
the query parameters a page may depend on (PAGE_PARAMS; not the utm_source or fbclid a link from
a social network brings, new on every click), the language and the time zone, so repeated
views cost no query and no template work. How long:

- PAGE_CACHE_SECONDS (0: off, the default outside production) is the most a page may lag
  behind a change: for that long a copy is served without asking whether anything changed.
  Under a launch's stream of pledges the page is rendered at most once per that time.
- With a shared store, a page that names what it shows (`depends_on`: the campaign page, its
  campaign and firm) is kept beyond that, up to PAGE_CACHE_MAX_SECONDS, for as long as none
  of it changed: the change tokens it was rendered with (crowdfund/change_tokens.py, read
  before the page's data) are still the current ones. So a long tail of quiet campaigns is
  rendered once every few minutes rather than on nearly every view.
- Something on the page that goes out of date by itself (the time left to a deadline) says
  when, with `valid_for`; the page is not kept past that.

Where it is kept (store.py): Flask-Caching's store, and in front of a shared one each
process's own copies. `Front` (front.py), in front of the Flask app, serves a visitor who
plainly has no account to be recognised by from this cache without Flask.

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

from ...extensions import cache
from . import front, store
from .decorator import cached_for_anonymous, this_page, valid_for
from .front import Front
from .store import PAGE_PARAMS, LocalCopies, PageEntry, page_key, page_path

__all__ = [
    "PAGE_PARAMS",
    "Front",
    "LocalCopies",
    "PageEntry",
    "cached_for_anonymous",
    "clear",
    "forget_local_copies",
    "init_app",
    "page_key",
    "page_path",
    "this_page",
    "valid_for",
]


def init_app(app):
    """Size this process's own copies, and put `Front` in front of the app."""
    store.local_copies = LocalCopies(app.config["PAGE_CACHE_LOCAL_BYTES"])
    app.wsgi_app = Front(app.wsgi_app, app)


def clear():
    forget_local_copies()
    cache.clear()


def forget_local_copies():
    """Drop this process's own copies (those in the shared store stay)."""
    store.local_copies.clear()
    front.forget_page_keys()
