"""The web experience: discover, updates, the founder's dashboard and backers CSV, the admin
users list, and the language and time-zone choices."""

import csv
import io
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from crowdfund.domain.charts import funding_chart, nice_step
from crowdfund.errors import PaymentDeclined
from crowdfund.models import ProjectUpdate, utcnow
from crowdfund.services import updates
from crowdfund.web.i18n import select_locale
from crowdfund.workflows import checkout
from tests.conftest import csrf_token

_keys = iter(range(10**6))


def pledge(project, backer, tier=None, quantity=1, method="pm_card_visa"):
    return checkout.place_pledge(
        backer,
        project,
        idempotency_key=f"pages-test-{next(_keys)}",
        payment_method=method,
        tier_id=(tier or project.tiers[0]).id,
        quantity=quantity,
    )


def titles(page):
    return re.findall(r'<h3><a href="/p/[^"]+">([^<]+)</a></h3>', page)


# --- discover -------------------------------------------------------------------------


def test_discover_searches_title_summary_and_firm(client, make, db):
    tea = make.live_project(title="Lantern Tea", summary="Spring tea from family gardens.")
    lamp = make.live_project(
        title="Brass Lamp", summary="A lamp for your desk.", firm=make.firm(legal_name="Workshop of Light Ltd")
    )
    make.project(title="Secret Tea Draft")  # never public
    assert titles(client.get("/").get_data(as_text=True)) == [tea.title, lamp.title]  # tea ends first
    assert titles(client.get("/?q=tea").get_data(as_text=True)) == ["Lantern Tea"]
    assert titles(client.get("/?q=FAMILY").get_data(as_text=True)) == ["Lantern Tea"]  # the summary
    assert titles(client.get("/?q=workshop").get_data(as_text=True)) == ["Brass Lamp"]  # the firm
    page = client.get("/?q=nothing-like-this").get_data(as_text=True)
    assert "No campaign matches your search" in page and "0 campaigns" in page


def test_discover_filters_and_sorts(client, make, db):
    small = make.live_project(title="Small goal", category="food")
    big = make.live_project(title="Equity goal", kind="equity", category="technology")
    backer = make.user()
    pledge(small, backer, quantity=3)
    assert titles(client.get("/?kind=equity").get_data(as_text=True)) == ["Equity goal"]
    assert titles(client.get("/?kind=reward").get_data(as_text=True)) == ["Small goal"]
    assert titles(client.get("/?category=food").get_data(as_text=True)) == ["Small goal"]
    assert titles(client.get("/?sort=most_funded").get_data(as_text=True)) == ["Small goal", "Equity goal"]
    assert titles(client.get("/?sort=newest").get_data(as_text=True)) == ["Equity goal", "Small goal"]
    assert titles(client.get("/?status=successful").get_data(as_text=True)) == []
    # Unknown values fall back to the defaults instead of failing.
    assert client.get("/?sort=drop-table&kind=x&status=draft&category=nope").status_code == 200
    assert big.slug in client.get("/?status=all").get_data(as_text=True)


def test_discover_pages_through_results(client, make, db):
    firm = make.firm()
    for n in range(13):
        make.live_project(firm=firm, title=f"Campaign {n:02d}", deadline=utcnow() + timedelta(days=5, hours=n))
    first = client.get("/").get_data(as_text=True)
    assert len(titles(first)) == 12 and "Campaigns 1–12" in first
    assert 'href="/?page=2#discover" rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/?page=2").get_data(as_text=True)
    assert titles(second) == ["Campaign 12"]  # ending soon: the latest deadline comes last
    assert "Campaign 13 of 13" in second  # the last page knows the total without counting
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert client.get("/?page=3").status_code == 404
    assert 'href="/?q=Campaign&amp;page=2#discover"' in client.get("/?q=Campaign").get_data(as_text=True)


def test_discover_offers_a_next_page_only_when_there_is_one(client, make, db):
    firm = make.firm()
    for n in range(12):
        make.live_project(firm=firm, title=f"Campaign {n:02d}")
    full = client.get("/").get_data(as_text=True)  # exactly one page
    assert len(titles(full)) == 12 and "12 campaigns" in full and 'rel="next"' not in full
    assert 'aria-label="Pages"' not in full
    make.live_project(firm=firm, title="Campaign 12")
    assert 'rel="next"' in client.get("/").get_data(as_text=True)
    for n in range(14, 26):  # pages 2 and 3 full: the page list runs to the one after this
        make.live_project(firm=firm, title=f"Campaign {n:02d}")
    second = client.get("/?page=2").get_data(as_text=True)
    assert "Campaigns 13–24" in second and 'href="/?page=3#discover" rel="next"' in second
    assert 'href="/#discover">1</a>' in second and 'href="/?page=3#discover">3</a>' in second


def test_each_page_link_is_one_box(client, make, db):
    """The stylesheet draws a box round each item of the page list: an item holds one link
    or one label, with nothing inside it that could be drawn as a second box."""
    firm = make.firm()
    for n in range(25):
        make.live_project(firm=firm, title=f"Campaign {n:02d}")
    page = client.get("/?page=2").get_data(as_text=True)
    items = re.findall(r"<li>(.*?)</li>", re.search(r'<ul class="pagination">(.*?)</ul>', page, re.S).group(1))
    assert '<a href="/#discover" rel="prev">‹ Previous</a>' in items
    assert '<a href="/?page=3#discover" rel="next">Next ›</a>' in items
    for item in items:
        assert re.fullmatch(r"<(a|span)( [^>]*)?>[^<>]+</\1>", item), item


def test_discover_runs_the_same_queries_however_many_cards_it_shows(client, make, db):
    """Firms and cover images come with the page of projects, not one query per card."""

    def statements_for(path):
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    def campaign(n):
        project = make.live_project(firm=make.firm(legal_name=f"Maker {n} Ltd"), title=f"Lamp {n}")
        make.document(project, "cover")

    campaign(0)
    few = statements_for("/"), statements_for("/?q=maker")
    for n in range(1, 12):
        campaign(n)
    page = client.get("/?q=maker").get_data(as_text=True)
    assert len(titles(page)) == 12 and "Maker 11 Ltd" in page and page.count('class="project-card-cover"') == 12
    assert (statements_for("/"), statements_for("/?q=maker")) == few


def test_discover_finds_chinese_titles_summaries_and_firm_names(client, make, db):
    make.live_project(title="竹制茶具套装", summary="手工竹制的茶具，一套六件。")
    make.live_project(
        title="太阳能台灯", summary="白天充电，夜里照明。", firm=make.firm(legal_name="深圳光明照明有限公司")
    )
    make.live_project(title="Solar Kettle", summary="Boils water with SUNLIGHT.")
    assert titles(client.get("/?q=茶具").get_data(as_text=True)) == ["竹制茶具套装"]  # two characters
    assert titles(client.get("/?q=一套六件").get_data(as_text=True)) == ["竹制茶具套装"]  # the summary
    assert titles(client.get("/?q=光明照明").get_data(as_text=True)) == ["太阳能台灯"]  # the firm
    assert titles(client.get("/?q=sunlight").get_data(as_text=True)) == ["Solar Kettle"]
    assert titles(client.get("/?q=lar ket").get_data(as_text=True)) == ["Solar Kettle"]  # inside words
    assert titles(client.get("/?q=茶壶").get_data(as_text=True)) == []


# --- updates --------------------------------------------------------------------------


def test_a_founder_posts_an_update_that_backers_read(client, make, login, db):
    founder = login(make.user(name="Fang"))
    project = make.live_project(firm=make.firm(owner=founder))
    path = f"/projects/{project.id}/updates/new"
    refused = client.post(path, data={"title": "", "body": "Kept text", "csrf_token": csrf_token(client, path)})
    assert refused.status_code == 422 and "Kept text" in refused.get_data(as_text=True)
    response = client.post(
        path,
        data={
            "title": "Tins are here",
            "csrf_token": csrf_token(client, path),
            "body": "The **tins** arrived.<script>alert(1)</script>",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/projects/{project.id}/dashboard#updates"
    )
    public = client.get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Tins are here" in public and "The <strong>tins</strong> arrived." in public
    assert "<script>alert" not in public and "Updates (1)" in public
    assert db.session.query(ProjectUpdate).one().author_id == founder.id


def test_updates_wait_for_approval(client, make, login, db):
    founder = login(make.user())
    draft = make.project(firm=make.firm(owner=founder))
    path = f"/projects/{draft.id}/updates/new"
    assert "once the project is approved" in client.get(path).get_data(as_text=True)
    response = client.post(path, data={"title": "Too early", "body": "x", "csrf_token": csrf_token(client, path)})
    assert response.status_code == 422
    assert db.session.query(ProjectUpdate).count() == 0


def test_the_update_service_checks_its_input(make, db):
    project = make.live_project()
    founder = make.founder_of(project)
    for title, body, field in (("", "x", "title"), ("x" * 201, "x", "title"), ("Hi", " ", "body")):
        try:
            updates.post_update(founder, project, title, body)
        except Exception as error:  # noqa: BLE001
            assert field in error.fields
        else:
            raise AssertionError("accepted bad input")


# --- founder dashboard and CSV -----------------------------------------------------------


def test_the_dashboard_shows_funding_sales_and_a_chart(client, make, login, db):
    founder = login(make.user())
    project = make.live_project(firm=make.firm(owner=founder), goal="100")
    backer = make.user(name="Bo")
    pledge(project, backer, quantity=2)
    pledge(project, make.user(), quantity=1)
    page = client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert "$75.00" in page and "75%" in page  # three $25 rewards of a $100 goal
    row = re.search(r'data-label="Sold">(\d+)</td>', page)
    assert row and row.group(1) == "3"
    assert page.count('<svg class="chart"') == 2  # wide and narrow
    points = re.search(r'<polyline points="([^"]+)"', page).group(1).split()
    assert len(points) == 2 + 2 * 2  # start, two steps up, and on to now
    assert "Funding over time" in page and "Download backers (CSV)" in page


def test_backers_csv_is_complete_and_safe_in_a_spreadsheet(client, make, login, db):
    founder = login(make.user())
    project = make.live_project(firm=make.firm(owner=founder))
    sneaky = make.user(name='=HYPERLINK("http://evil")')
    honest = make.user(name="王芳")
    pledge(project, sneaky)
    pledge(project, honest, quantity=2)
    try:  # a declined card: no pledge held, so not in the list
        pledge(project, make.user(name="Declined"), method="pm_card_chargeDeclined")
    except PaymentDeclined:
        pass
    response = client.get(f"/projects/{project.id}/backers.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="backers-{project.id}.csv"'
    assert "no-store" in response.headers["Cache-Control"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["Pledge", "Name", "Email", "Status"]
    by_name = {row[1]: row for row in rows[1:]}
    assert set(by_name) == {'\'=HYPERLINK("http://evil")', "王芳"}
    assert by_name["王芳"][2] == honest.email and by_name["王芳"][5] == "2" and by_name["王芳"][7] == "50.00"


# --- admin -------------------------------------------------------------------------------


def test_admins_list_and_search_users(client, make, login, db):
    login(make.admin(email="boss@example.com"))
    make.user(name="Wang Fang", email="wang@example.com")
    make.firm(owner=make.user(name="Li Ming", email="li@example.com"), legal_name="Li Tea Ltd")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "wang@example.com" in page and "li@example.com" in page and "Li Tea Ltd" in page
    assert "Administrator" in page and "Founder" in page and "3 accounts" in page
    found = client.get("/admin/users?q=WANG").get_data(as_text=True)
    assert "wang@example.com" in found and "li@example.com" not in found and "1 account" in found


# --- language, time zone, formatting -------------------------------------------------


def test_the_language_follows_the_browser_and_the_switch(client, db):
    assert '<html lang="zh-Hans">' in client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "fr, en;q=0.5"}).get_data(as_text=True)
    client.get("/language/zh?next=/")
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page and "支持您信赖的小微企业" in page
    assert client.get("/language/xx").status_code == 404


def test_locale_outside_a_request_is_the_default(app):
    with app.app_context():
        assert select_locale() == "en"


def test_deadlines_show_in_the_viewers_time_zone(client, make, db):
    deadline = utcnow().replace(microsecond=0) + timedelta(days=20)
    project = make.live_project(deadline=deadline)
    client.set_cookie("tz", "Asia%2FShanghai")  # as static/js/app.js writes it
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    local = deadline.astimezone(timezone(timedelta(hours=8)))
    # To the minute: long dates carry no seconds (issue 23).
    assert f"{local:%-I}:{local:%M}" in page and f"{local:%-I}:{local:%M}:{local:%S}" not in page
    assert "China Standard Time" in page
    zh = client.get(f"/p/{project.slug}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert f"{local.year}年{local.month}月{local.day}日" in zh and "中国标准时间" in zh and "US$" in zh


def test_every_page_sends_the_security_headers(client, make, login, db):
    founder = login(make.user())
    project = make.live_project(firm=make.firm(owner=founder))
    for path in ("/", f"/p/{project.slug}", f"/projects/{project.id}/dashboard", "/me/pledges"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"], path
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"


# --- the chart's geometry ----------------------------------------------------------------


def test_the_funding_chart_steps_up_to_each_total():
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    chart = funding_chart(
        [(start + timedelta(days=1), 2500), (start + timedelta(days=2), 10000)],
        start=start,
        end=start + timedelta(days=10),
        goal=50000,
        now=start + timedelta(days=5),
        unit=100,
    )
    coords = [tuple(map(float, p.split(","))) for p in chart.line.split()]
    ys = {tick.value: tick.pos for tick in chart.y_ticks}
    assert coords[0] == (chart.left, chart.bottom)
    assert coords[-1][0] == chart.left + (chart.right - chart.left) / 2  # runs on to now, half way
    assert chart.goal_y == coords[0][1] - (coords[0][1] - ys[60000]) * 50000 / 60000
    assert [t.value for t in chart.y_ticks] == [0, 20000, 40000, 60000]  # round steps above the goal
    assert nice_step(500) == 200 and nice_step(37) == 10 and nice_step(0) == 1


def test_choose_this_reward_preselects_it_on_the_backing_form(client, make, login, db):
    project = make.live_project()
    second = make.tier(project, title="Second reward")
    login(make.user())
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    link = f"/p/{project.slug}/back?tier={second.id}"
    assert f'href="{link}"' in page
    form = client.get(link).get_data(as_text=True)
    assert re.search(rf'value="{second.id}"\s+checked', form)
    assert not re.search(rf'value="{project.tiers[0].id}"\s+checked', form)
