"""Ended campaigns keep their page; sharing tags, robots.txt, sitemap.xml and favicon.ico."""

import re
import xml.etree.ElementTree as ET

import pytest

from crowdfund.models import Project
from crowdfund.services import campaigns


def meta(page, attribute, name):
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', page)
    return match and match.group(1)


@pytest.mark.parametrize(
    "stop, outcome, reason",
    [
        ("cancel", "The firm cancelled this campaign.", "Our supplier closed."),
        ("suspend", "Our administrators suspended this campaign.", "The registration lapsed."),
    ],
)
def test_a_stopped_campaign_keeps_its_page_and_says_why(db, make, campaign, client, stop, outcome, reason):
    project, founder, _backer = campaign
    if stop == "cancel":
        campaigns.cancel(founder, project, reason)
    else:
        campaigns.suspend(make.admin(), project, reason)
    db.session.commit()
    response = client.get(f"/p/{project.slug}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert outcome in page and reason in page
    assert "Back this project" not in page and "Choose this reward" not in page
    assert "问题与评论" in client.get(f"/p/{project.slug}?lang=zh").get_data(as_text=True)


def test_successful_and_failed_pages_stay_and_private_ones_do_not(db, make, client):
    ended = make.live_project()
    for status in ("successful", "failed"):
        db.session.get(Project, ended.id).status = status
        db.session.commit()
        response = client.get(f"/p/{ended.slug}")
        assert response.status_code == 200 and "Back this project" not in response.get_data(as_text=True)
    for private in (make.project(), make.submitted_project(), make.approved_project()):
        assert client.get(f"/p/{private.slug}").status_code == 404


def test_a_campaign_page_has_sharing_tags(db, make, client):
    project = make.live_project(title="Brass desk lamp", summary="A lamp for your desk, made in a small workshop.")
    cover = make.document(project, "cover")
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    assert meta(page, "name", "description") == "A lamp for your desk, made in a small workshop."
    assert meta(page, "property", "og:title") == "Brass desk lamp"
    assert meta(page, "property", "og:description") == "A lamp for your desk, made in a small workshop."
    assert meta(page, "property", "og:url") == f"http://localhost/p/{project.slug}"
    assert meta(page, "property", "og:image") == f"http://localhost/p/{project.slug}/files/{cover.id}"
    assert meta(page, "name", "twitter:card") == "summary_large_image"
    assert meta(page, "name", "twitter:image") == f"http://localhost/p/{project.slug}/files/{cover.id}"
    assert meta(page, "name", "robots") is None
    assert meta(client.get(f"/p/{project.slug}?lang=zh").get_data(as_text=True), "property", "og:locale") == "zh_CN"
    plain = make.live_project()
    assert meta(client.get(f"/p/{plain.slug}").get_data(as_text=True), "name", "twitter:card") == "summary"


def test_robots_txt_points_at_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in text and "Disallow: /admin/" in text
    assert "Disallow: /p/" not in text


def test_the_sitemap_lists_live_and_ended_campaigns_only(db, make, client):
    live, ended, cancelled = make.live_project(), make.live_project(), make.live_project()
    db.session.get(Project, ended.id).status = "successful"
    campaigns.cancel(make.founder_of(cancelled), cancelled, "Changed plans.")
    db.session.commit()
    hidden = [make.project(), make.submitted_project(), make.approved_project()]
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    listed = {loc.text for loc in ET.fromstring(response.data).findall("s:url/s:loc", namespace)}
    assert {f"http://localhost/p/{p.slug}" for p in (live, ended, cancelled)} <= listed
    assert not {f"http://localhost/p/{p.slug}" for p in hidden} & listed


def test_the_favicon_is_a_real_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00" and len(response.data) > 200
    assert "max-age" in response.headers["Cache-Control"]
