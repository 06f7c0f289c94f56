"""Anonymous visitors' campaign pages may be served from a short-lived cache."""

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from crowdfund.models import Project, utcnow
from crowdfund.services import campaigns
from crowdfund.services.projects import access
from crowdfund.web import page_cache
from crowdfund.web.page_cache import decorator, front, store
from crowdfund.web.projects import template_globals
from crowdfund.workflows import checkout


@pytest.fixture()
def cache_for(app):
    def configure(seconds):
        app.config["PAGE_CACHE_SECONDS"] = seconds

    page_cache.clear()
    yield configure
    app.config["PAGE_CACHE_SECONDS"] = 0
    page_cache.clear()


@pytest.fixture()
def shared_cache(app, redis_url, cache_for):
    """The page cache in Redis, as in production: shared by every process, with change tokens."""
    from crowdfund.extensions import cache

    before = {key: app.config.get(key) for key in ("CACHE_TYPE", "CACHE_REDIS_URL", "CACHE_KEY_PREFIX")}
    app.config.update(
        CACHE_TYPE="RedisCache", CACHE_REDIS_URL=redis_url, CACHE_KEY_PREFIX=f"crowdfund-test-{secrets.token_hex(4)}:"
    )
    cache.init_app(app)
    cache_for(10)
    yield
    page_cache.clear()
    app.config.update(before)
    cache.init_app(app)


@pytest.fixture()
def later(monkeypatch):
    """later(seconds): the clocks of the page cache and of the pages move on by `seconds`."""
    shift = timedelta(0)
    real_time, real_utcnow = store.time.time, template_globals.utcnow

    class Clock:
        @staticmethod
        def time():
            return real_time() + shift.total_seconds()

    for module in (store, decorator, front):
        monkeypatch.setattr(module, "time", Clock)
    monkeypatch.setattr(template_globals, "utcnow", lambda: real_utcnow() + shift)

    def move(seconds):
        nonlocal shift
        shift += timedelta(seconds=seconds)

    return move


@pytest.fixture()
def statements(db):
    """statements(fn): how many SQL statements `fn()` sent."""

    def count(fn):
        sent = []
        listener = lambda *args: sent.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            fn()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(sent)

    return count


def rename(db, project, title):
    project.title = title
    db.session.commit()


def test_an_anonymous_visitor_may_see_the_page_as_it_was_moments_ago(client, make, db, cache_for):
    cache_for(30)
    project = make.live_project(title="Lantern Tea")
    assert "Lantern Tea" in client.get(f"/p/{project.slug}").get_data(as_text=True)

    rename(db, project, "Lantern Tea Two")

    page = client.get(f"/p/{project.slug}")
    assert page.status_code == 200 and "Lantern Tea Two" not in page.get_data(as_text=True)
    assert page.headers["Content-Security-Policy"]  # headers are still added to a cached page
    page_cache.clear()  # what the time limit does
    assert "Lantern Tea Two" in client.get(f"/p/{project.slug}").get_data(as_text=True)


def test_the_front_page_and_searches_are_cached_for_anonymous_visitors(client, make, db, login, cache_for):
    cache_for(30)
    make.live_project(title="Lantern Tea")
    assert "Lantern Tea" in client.get("/").get_data(as_text=True)
    assert "Lantern Tea" in client.get("/?q=lantern").get_data(as_text=True)
    assert "Lantern Tea" not in client.get("/?q=bicycle").get_data(as_text=True)

    make.live_project(title="Bicycle Bells")

    assert "Bicycle Bells" not in client.get("/").get_data(as_text=True)  # as it was moments ago
    assert "Bicycle Bells" not in client.get("/?q=bicycle").get_data(as_text=True)
    assert "Bicycle Bells" in client.get("/?q=bells").get_data(as_text=True)  # a search of its own
    login(make.user())
    assert "Bicycle Bells" in client.get("/").get_data(as_text=True)  # logged in: always fresh


def test_with_the_cache_off_every_view_is_fresh(client, make, db, cache_for):
    cache_for(0)
    project = make.live_project(title="Lantern Tea")
    client.get(f"/p/{project.slug}")
    rename(db, project, "Lantern Tea Two")
    assert "Lantern Tea Two" in client.get(f"/p/{project.slug}").get_data(as_text=True)


def test_logged_in_people_always_see_the_page_fresh(client, make, db, login, cache_for):
    cache_for(30)
    project = make.live_project(title="Lantern Tea")
    client.get(f"/p/{project.slug}")  # cached for anonymous visitors
    rename(db, project, "Lantern Tea Two")
    login(make.user())
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Lantern Tea Two" in page and "Log out" in page


def test_each_language_has_its_own_page(client, make, db, cache_for):
    cache_for(30)
    project = make.live_project(title="Lantern Tea")
    english = client.get(f"/p/{project.slug}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    chinese = client.get(f"/p/{project.slug}", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert 'lang="en"' in english and 'lang="zh-Hans"' in chinese


def test_a_missing_page_is_not_kept(client, make, db, cache_for):
    cache_for(30)
    project = make.approved_project()  # not public yet
    assert client.get(f"/p/{project.slug}").status_code == 404
    campaigns.launch(make.founder_of(project), project, utcnow() + timedelta(days=10))
    db.session.commit()
    assert client.get(f"/p/{project.slug}").status_code == 200


def test_web_processes_share_pages_through_redis(app, client, make, db, redis_url):
    """With CACHE_TYPE=RedisCache a page rendered by one process is served by the others."""
    from crowdfund import create_app

    other = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        PAGE_CACHE_SECONDS=30,
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=f"crowdfund-test-{secrets.token_hex(4)}:",
    )
    first = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        PAGE_CACHE_SECONDS=30,
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=other.config["CACHE_KEY_PREFIX"],
    )
    project = make.live_project(title="Lantern Tea")
    db.session.commit()
    assert "Lantern Tea" in first.test_client().get(f"/p/{project.slug}").get_data(as_text=True)
    rename(db, project, "Lantern Tea Two")
    page_cache.forget_local_copies()  # what the other process would not have: this one's own copies

    page = other.test_client().get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Lantern Tea" in page and "Lantern Tea Two" not in page  # the first process's copy
    with other.app_context():
        page_cache.clear()
    assert "Lantern Tea Two" in other.test_client().get(f"/p/{project.slug}").get_data(as_text=True)


def test_a_cache_that_cannot_be_reached_does_not_break_the_page(app, client, make, db):
    unreachable = create_unreachable_cache_app(app)
    project = make.live_project(title="Lantern Tea")
    db.session.commit()
    page = unreachable.test_client().get(f"/p/{project.slug}")
    assert page.status_code == 200 and "Lantern Tea" in page.get_data(as_text=True)


def create_unreachable_cache_app(app):
    from crowdfund import create_app

    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        PAGE_CACHE_SECONDS=30,
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL="redis://127.0.0.1:1/0",
    )  # nothing listens on port 1


def view(client, project):
    return client.get(f"/p/{project.slug}").get_data(as_text=True)


def test_a_quiet_campaign_page_is_kept_while_nothing_on_it_changes(client, make, db, shared_cache, later, statements):
    path = f"/p/{make.live_project(title='Lantern Tea', deadline=utcnow() + timedelta(days=20)).slug}"
    client.get(path)
    later(200)  # past the 10 s lag, within PAGE_CACHE_MAX_SECONDS (300)
    assert statements(lambda: client.get(path)) == 0

    later(101)  # 301 s: even a quiet page is rendered again
    assert statements(lambda: client.get(path)) > 0


def test_a_change_shows_once_the_lag_is_over(client, make, db, shared_cache, later):
    project = make.live_project(title="Lantern Tea", deadline=utcnow() + timedelta(days=20))
    view(client, project)
    rename(db, project, "Lantern Tea Two")
    later(5)
    assert "Lantern Tea Two" not in view(client, project)  # within the lag: as it was
    later(6)
    assert "Lantern Tea Two" in view(client, project)


def test_a_pledge_moves_the_totals_an_anonymous_visitor_sees(client, make, db, shared_cache, later):
    project = make.live_project(deadline=utcnow() + timedelta(days=20))
    tier = project.tiers[0]  # "Early bird", $25, 100 of them
    assert '"raised">$0.00<' in view(client, project) and "100 of 100 left" in view(client, project)
    checkout.place_pledge(
        make.user(), project, tier_id=tier.id, idempotency_key=secrets.token_hex(8), payment_method="pm_card_visa"
    )
    later(11)
    page = view(client, project)
    assert '"raised">$25.00<' in page and '"backers">1<' in page and "99 of 100 left" in page


def test_a_change_to_the_firm_shows_on_its_campaign_pages(client, make, db, shared_cache, later):
    project = make.live_project(deadline=utcnow() + timedelta(days=20))
    view(client, project)
    project.firm.legal_name = "Lantern Holdings Ltd"
    db.session.commit()
    later(11)
    assert "Lantern Holdings Ltd" in view(client, project)


def test_a_change_committed_while_the_page_renders_is_not_missed(client, make, db, shared_cache, later, monkeypatch):
    project = make.live_project(title="Lantern Tea", deadline=utcnow() + timedelta(days=20))
    project_id = project.id
    db.session.commit()
    real = access.get_by_slug

    def read_then_someone_renames(slug):
        shown = real(slug)
        _ = shown.title  # what the page will show, read before the rename commits
        with Session(db.engine) as other:  # another request, committing while this page renders
            other.get(Project, project_id).title = "Lantern Tea Two"
            other.commit()
        return shown

    monkeypatch.setattr(access, "get_by_slug", read_then_someone_renames)
    assert "Lantern Tea Two" not in view(client, project)
    monkeypatch.setattr(access, "get_by_slug", real)
    later(11)
    assert "Lantern Tea Two" in view(client, project)


def test_the_page_is_not_kept_past_its_time_left(client, make, db, shared_cache, later):
    project = make.live_project(deadline=utcnow() + timedelta(days=3, seconds=100))
    assert "3 days" in view(client, project)
    later(60)
    assert "3 days" in view(client, project)  # kept: nothing changed, the figure still holds
    later(50)
    assert "2 days" in view(client, project)


def test_through_redis_a_change_made_by_another_process_shows(app, make, db, redis_url, later):
    """A worker process (here: another app) commits the change; the web process's copy,
    kept past the lag while nothing changed, gives way to it."""
    from crowdfund import create_app

    settings = dict(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        PAGE_CACHE_SECONDS=10,
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=f"crowdfund-test-{secrets.token_hex(4)}:",
    )
    web, worker = create_app("testing", **settings), create_app("testing", **settings)
    project = make.live_project(title="Lantern Tea", deadline=utcnow() + timedelta(days=20))
    project_id, path = project.id, f"/p/{project.slug}"
    db.session.commit()
    assert "Lantern Tea" in web.test_client().get(path).get_data(as_text=True)
    later(60)
    page_cache.forget_local_copies()
    assert "Lantern Tea" in web.test_client().get(path).get_data(as_text=True)  # from Redis, still current

    with worker.app_context():
        db.session.get(Project, project_id).title = "Lantern Tea Two"
        db.session.commit()
    page_cache.forget_local_copies()
    assert "Lantern Tea Two" in web.test_client().get(path).get_data(as_text=True)


def test_in_one_process_s_memory_a_page_is_kept_no_longer_than_the_lag(client, make, db, cache_for, later, statements):
    """Without a shared store another process's change would not reach this one's tokens."""
    cache_for(10)
    path = f"/p/{make.live_project(deadline=utcnow() + timedelta(days=20)).slug}"
    client.get(path)
    later(5)
    assert statements(lambda: client.get(path)) == 0
    later(6)
    assert statements(lambda: client.get(path)) > 0


def test_a_process_serves_its_own_copy_while_the_tokens_say_nothing_changed(
    client, make, db, shared_cache, later, statements
):
    from crowdfund.extensions import cache

    path = f"/p/{make.live_project(deadline=utcnow() + timedelta(days=20)).slug}"
    client.get(path)
    cache.delete_many(*store.local_copies)  # only this process's copy is left
    later(60)
    assert statements(lambda: client.get(path)) == 0  # no render: its copy, after a check of the tokens

    make.tier(db.session.get(Project, make.live_project().id))  # another campaign: not this page's concern
    db.session.commit()
    later(60)
    assert statements(lambda: client.get(path)) == 0


def test_a_process_keeps_the_pages_it_served_last_within_its_budget(
    client, make, db, shared_cache, monkeypatch, statements
):
    from crowdfund.extensions import cache

    paths = [f"/p/{make.live_project(deadline=utcnow() + timedelta(days=20)).slug}" for _ in range(3)]
    first, second, third = paths
    size = len(client.get(first).get_data())
    monkeypatch.setattr(store, "local_copies", page_cache.LocalCopies(2 * (size + 1024) + 1024))  # room for two
    for path in (first, second, first, third):  # the second is now the least recently served
        client.get(path)
    cache.clear()  # only this process's own copies are left

    assert statements(lambda: client.get(first)) == 0
    assert statements(lambda: client.get(third)) == 0
    assert statements(lambda: client.get(second)) > 0  # dropped: rendered again


def test_a_page_larger_than_the_whole_budget_is_simply_not_kept():
    copies = page_cache.LocalCopies(4096)
    copies.set("big", page(b"x" * 10_000))
    assert copies.get("big", 0) is None
    copies.set("small", page(b"x"))
    assert copies.get("small", 0).body == b"x" and copies.get("small", 25.0) is None  # gone once expired


def page(body):
    return page_cache.PageEntry(
        fresh_until=10.0, expires_at=20.0, tokens={}, body=body, status=200, mimetype="text/html"
    )


@pytest.fixture()
def flask_requests(app):
    """How many requests reached the Flask app (not answered by page_cache.Front)."""
    from flask import request_started

    seen = []
    receiver = lambda sender, **extra: seen.append(1)  # noqa: E731
    request_started.connect(receiver, app)
    yield lambda: len(seen)
    request_started.disconnect(receiver, app)


def test_a_view_moments_after_another_is_resent_as_it_was_without_flask(client, make, shared_cache, flask_requests):
    path = f"/p/{make.live_project(title='Lantern Tea', deadline=utcnow() + timedelta(days=20)).slug}"
    first = client.get(path)
    again = client.get(path)
    assert flask_requests() == 1
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert again.headers == first.headers  # Content-Security-Policy and the rest, as Flask sent them


def test_nobody_with_a_session_or_remember_me_cookie_gets_the_resent_copy(client, make, shared_cache, flask_requests):
    path = f"/p/{make.live_project(deadline=utcnow() + timedelta(days=20)).slug}"
    client.get(path)
    for cookie in ("session", "remember_token"):
        client.set_cookie(cookie, "whatever-it-holds")
        before = flask_requests()
        client.get(path)
        assert flask_requests() == before + 1, cookie  # Flask decides who they are
        client.delete_cookie(cookie)
    before = flask_requests()
    client.get(path, headers={"Authorization": "Bearer whatever"})
    assert flask_requests() == before + 1


def test_each_language_and_time_zone_has_its_own_resent_copy(client, make, shared_cache, flask_requests):
    path = f"/p/{make.live_project(deadline=utcnow() + timedelta(days=20)).slug}"
    client.get(path, headers={"Accept-Language": "en"})
    chinese = client.get(path, headers={"Accept-Language": "zh"})
    assert flask_requests() == 2 and 'lang="zh-Hans"' in chinese.get_data(as_text=True)
    client.set_cookie("tz", "Asia%2FShanghai")
    client.get(path, headers={"Accept-Language": "zh"})
    assert flask_requests() == 3
    client.get(path, headers={"Accept-Language": "zh"})
    assert flask_requests() == 3


def test_after_a_moment_the_copy_is_resent_only_while_its_change_tokens_are_current(
    client, make, db, shared_cache, later, flask_requests
):
    project = make.live_project(title="Lantern Tea", deadline=utcnow() + timedelta(days=20))
    view(client, project)
    later(1)  # within PAGE_CACHE_LOCAL_SECONDS (2): resent unasked
    view(client, project)
    later(60)  # resent after a check of the tokens: nothing on the page changed
    assert "Lantern Tea" in view(client, project) and flask_requests() == 1

    rename(db, project, "Lantern Tea Two")
    later(11)  # past the lag
    assert "Lantern Tea Two" in view(client, project) and flask_requests() == 2


def test_a_cookie_set_for_one_visitor_is_never_resent_to_another(app, make, shared_cache):
    path = f"/p/{make.live_project(deadline=utcnow() + timedelta(days=20)).slug}"

    def a_cookie_of_their_own(response):  # as a later hook of the app might
        response.set_cookie("visitor", secrets.token_hex(8))
        return response

    app.after_request_funcs.setdefault(None, []).append(a_cookie_of_their_own)
    try:
        first = app.test_client().get(path)
        second = app.test_client().get(path)
    finally:
        app.after_request_funcs[None].remove(a_cookie_of_their_own)
    assert first.headers["Set-Cookie"] != second.headers.get("Set-Cookie")
    assert second.get_data() == first.get_data()


def test_a_resent_page_gets_headers_made_for_it_not_replayed_from_an_earlier_answer(
    client, make, shared_cache, flask_requests, monkeypatch
):
    """What a per-request Content-Security-Policy nonce would need."""
    from crowdfund.web import security

    path = f"/p/{make.live_project(deadline=utcnow() + timedelta(days=20)).slug}"
    client.get(path)
    numbers, page_headers = iter(range(1, 100)), security.page_headers
    monkeypatch.setattr(
        security, "page_headers", lambda config: [*page_headers(config), ("X-Nonce", str(next(numbers)))]
    )
    first, second = client.get(path), client.get(path)
    assert flask_requests() == 1
    assert (first.headers["X-Nonce"], second.headers["X-Nonce"]) == ("1", "2")
    assert first.headers["Content-Security-Policy"] == security.CSP


def test_a_page_in_the_cache_is_sent_without_flask_in_its_language_and_zone(client, make, shared_cache, flask_requests):
    path = f"/p/{make.live_project(title='Lantern Tea', deadline=utcnow() + timedelta(days=20)).slug}"
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    client.set_cookie("tz", "Asia%2FShanghai")
    rendered = client.get(path, headers=chinese)
    page_cache.forget_local_copies()  # as in a process that did not render it: the copy in Redis only
    before = flask_requests()

    page = client.get(path, headers=chinese)
    assert flask_requests() == before
    assert page.get_data() == rendered.get_data() and 'lang="zh-Hans"' in page.get_data(as_text=True)
    assert page.headers == rendered.headers  # the security headers, the length of this page

    client.get(f"{path}?lang=en", headers=chinese)  # not in the cache yet: the app renders it
    assert flask_requests() == before + 1


def test_a_failure_in_front_of_the_app_leaves_the_answer_to_the_app(
    client, make, shared_cache, monkeypatch, flask_requests
):
    path = f"/p/{make.live_project(title='Lantern Tea', deadline=utcnow() + timedelta(days=20)).slug}"
    client.get(path)
    page_cache.forget_local_copies()

    def broken(*args):
        raise RuntimeError("a bug in the front")

    monkeypatch.setattr(front, "locale_for", broken)
    page = client.get(path)
    assert page.status_code == 200 and "Lantern Tea" in page.get_data(as_text=True)
    assert flask_requests() == 2


def test_visitors_from_links_with_their_own_tracking_parameters_share_one_copy(
    client, make, shared_cache, flask_requests
):
    path = f"/p/{make.live_project(title='Lantern Tea', deadline=utcnow() + timedelta(days=20)).slug}"
    client.get(f"{path}?utm_source=newsletter&fbclid=IwAR1")
    page_cache.forget_local_copies()  # another process: only the copy in Redis
    page = client.get(f"{path}?fbclid=IwAR2").get_data(as_text=True)
    assert flask_requests() == 1
    assert "Lantern Tea" in page and "fbclid" not in page and "utm_source" not in page

    assert 'lang="zh-Hans"' in client.get(f"{path}?lang=zh&fbclid=IwAR3").get_data(as_text=True)  # lang counts


def test_a_search_keeps_its_own_page_whatever_else_the_link_carried(client, make, cache_for):
    cache_for(30)
    for n in range(13):  # two pages of them
        make.live_project(title=f"Lantern Tea {n}")
    make.live_project(title="Bicycle Bells")
    lanterns = client.get("/?q=lantern&fbclid=IwAR1").get_data(as_text=True)
    bells = client.get("/?fbclid=IwAR1&q=bells").get_data(as_text=True)
    assert "Lantern Tea" in lanterns and "Bicycle Bells" not in lanterns
    assert "Bicycle Bells" in bells and "Lantern Tea" not in bells
    assert "q=lantern&amp;page=2" in lanterns  # the next page: the search, and nothing else
    assert "fbclid" not in lanterns + bells


def test_the_language_switch_of_a_page_that_is_not_cached_keeps_its_whole_address(client, cache_for):
    cache_for(30)
    page = client.get("/account/login?next=/me/pledges").get_data(as_text=True)
    assert 'href="/language/zh?next=/account/login?next%3D/me/pledges"' in page


def test_with_the_tokens_unreadable_the_app_renders_the_page_and_only_warns(
    client, make, shared_cache, later, monkeypatch, caplog
):
    from crowdfund import change_tokens

    path = f"/p/{make.live_project(title='Lantern Tea', deadline=utcnow() + timedelta(days=20)).slug}"
    client.get(path)
    later(30)  # the copy needs a check of its tokens

    def redis_away(keys):
        raise ConnectionError("Redis is away")

    monkeypatch.setattr(change_tokens, "current", redis_away)
    page = client.get(path)
    assert page.status_code == 200 and "Lantern Tea" in page.get_data(as_text=True)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
