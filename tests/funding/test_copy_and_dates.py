"""The "Wrong today" fixes: dates in the reader's locale, copy that follows the outcome,
equity words on equity pages, a short campaign's chart axis."""

import re
from datetime import timedelta

from crowdfund.domain.charts import funding_chart
from crowdfund.domain.clock import utcnow
from tests.support.settlement import close, reward_campaign


def test_dates_follow_the_readers_region_and_carry_no_seconds(make, db, client):
    deadline = utcnow().replace(microsecond=0) + timedelta(days=20)
    project = make.live_project(deadline=deadline)
    us = client.get(f"/p/{project.slug}", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    gb = client.get(f"/p/{project.slug}", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    month = f"{deadline:%b}"
    assert f"{month} {deadline.day}, {deadline.year}" in us  # Dec 27, 2026
    assert f"{deadline.day} {month} {deadline.year}" in gb  # 27 Dec 2026
    assert not re.search(r"\d:\d\d:\d\d\W?[AP]M", us)  # "6:22 PM", not "6:22:54 PM"


def test_a_paid_out_campaign_no_longer_promises_escrow(make, db, client, login):
    project, _held = reward_campaign(make, db, goal="50", backers=3)
    close(db, project)
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    assert "only reaches the firm if the goal is met" not in page
    assert "released from escrow to the firm" in page
    login(make.founder_of(project))
    dashboard = client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert "Pledged (released to the firm)" in dashboard and "Pledged (held in escrow)" not in dashboard


def test_equity_pages_use_investment_words(make, db, client, login):
    project = make.live_project(kind="equity", goal="100")
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    assert "pledged of" not in page and "invested of a" in page
    login(make.user())
    back = client.get(f"/p/{project.slug}/back").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", back, re.S).group(1)
    assert "Invest in Own" not in title and project.firm.legal_name.split()[0] in title
    client.post("/account/logout")
    login(make.founder_of(project))
    dashboard = client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert "Download backers" not in dashboard


def test_a_short_campaigns_axis_names_times_not_the_same_day_thrice():
    start = utcnow().replace(hour=9, minute=0, second=0, microsecond=0)
    chart = funding_chart([], start=start, end=start + timedelta(hours=20), goal=1000, now=start)
    assert chart.x_unit == "time" and len({tick.value for tick in chart.x_ticks}) == 3
    long = funding_chart([], start=start, end=start + timedelta(days=20), goal=1000, now=start)
    assert long.x_unit == "day"


def test_the_statement_holdings_and_settlements_tables_fit_a_phone(make, db, client, login):
    # The browser test measures the width; here: the tables are the responsive kind.
    login(make.admin())
    page = client.get("/admin/settlements").get_data(as_text=True)
    assert "table-wrap" in page or "No campaign has ended yet." in page
