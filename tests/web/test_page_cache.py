"""Anonymous visitors' campaign pages may be served from a short-lived cache."""
import secrets
from datetime import timedelta

import pytest

from crowdfund.models import utcnow
from crowdfund.services import campaigns
from crowdfund.web import page_cache


@pytest.fixture()
def cache_for(app):
    def configure(seconds):
        app.config["PAGE_CACHE_SECONDS"] = seconds
    page_cache.clear()
    yield configure
    app.config["PAGE_CACHE_SECONDS"] = 0
    page_cache.clear()


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

    other = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       PAGE_CACHE_SECONDS=30, CACHE_TYPE="RedisCache", CACHE_REDIS_URL=redis_url,
                       CACHE_KEY_PREFIX=f"crowdfund-test-{secrets.token_hex(4)}:")
    first = create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                       PAGE_CACHE_SECONDS=30, CACHE_TYPE="RedisCache", CACHE_REDIS_URL=redis_url,
                       CACHE_KEY_PREFIX=other.config["CACHE_KEY_PREFIX"])
    project = make.live_project(title="Lantern Tea")
    db.session.commit()
    assert "Lantern Tea" in first.test_client().get(f"/p/{project.slug}").get_data(as_text=True)
    rename(db, project, "Lantern Tea Two")
    page_cache._local.clear()  # what the other process would not have: this one's own copies

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

    return create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      PAGE_CACHE_SECONDS=30, CACHE_TYPE="RedisCache",
                      CACHE_REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
