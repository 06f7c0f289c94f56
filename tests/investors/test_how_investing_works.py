"""/how-investing-works shows the figures in force, in both languages; admins keep the rates."""

import re
from datetime import date

from crowdfund.models import FxRate
from crowdfund.services import fx_rates, investors
from tests.support.builders import investor


def text_of(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_reg_cf_figures_by_default(client):
    page = text_of(client.get("/how-investing-works"))
    assert "US Regulation Crowdfunding" in page
    assert "below $124,000.00, the greater of $2,500.00 and 5% of the greater of the two" in page
    assert "otherwise 10% of the greater of the two, never more than $124,000.00" in page
    assert "at least 21 days" in page and "48 hours before the offering closes" in page
    assert "$5,000,000.00 in 365 days" in page and "5 business days" in page
    assert "50%, 100% of its target" in page
    assert "as of 2026-12-01" in page and "7.0712" in page
    assert "at most 200 investors" not in page


def test_another_rulebook_and_overrides_show_up(client, rulebook):
    rulebook("eu_ecsp", MAX_INVESTORS_PER_OFFERING=2)
    page = text_of(client.get("/how-investing-works"))
    assert "the greater of €1,000.00 and 10% of the greater of your annual income and your net worth" in page
    assert "€5,000,000.00" in page and "at least 14 days" in page
    assert "An offering accepts at most 2 investors." in page
    rulebook("cn", MAX_INVESTORS_PER_OFFERING=None)
    page = text_of(client.get("/how-investing-works"))
    assert "CN¥20,000.00" in page and "at most 200 investors" in page and "raise at most" not in page


def test_the_page_in_chinese(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    page = text_of(client.get("/how-investing-works"))
    assert "投资须知" in page and "21 天" in page and "US$5,000,000.00" in page
    assert "2026-12-01" in page


def test_an_admin_keeps_the_rates_and_every_conversion_uses_them(client, login, make, db):
    backer = investor(make, db, currency="JPY", income=0, net_worth=0)
    profile = investors.get_profile(backer)
    assert investors.allowance(backer, profile, "JPY").limit == 388_300  # $2,500 at 155.32

    login(make.admin())
    page = client.get("/admin/fx-rates")
    assert page.status_code == 200 and "155.32" in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    bad = client.post(
        "/admin/fx-rates", data={"csrf_token": token, "currency": "JPY", "per_usd": "-1", "as_of": "2026-12-04"}
    )
    assert bad.status_code == 422 and "positive number" in bad.get_data(as_text=True)
    future = client.post(
        "/admin/fx-rates", data={"csrf_token": token, "currency": "JPY", "per_usd": "150", "as_of": "2999-01-01"}
    )
    assert future.status_code == 422 and db.session.get(FxRate, "JPY") is None
    saved = client.post(
        "/admin/fx-rates", data={"csrf_token": token, "currency": "JPY", "per_usd": "150", "as_of": "2026-12-04"}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(FxRate, "JPY").per_usd == "150"
    assert fx_rates.reference_rates().as_of == date(2026, 12, 1)  # the oldest rate in use
    assert investors.allowance(backer, investors.get_profile(backer), "JPY").limit == 375_000
    assert "150" in text_of(client.get("/how-investing-works"))


def test_only_admins_see_the_rates_page(client, login, make):
    login(make.user())
    assert client.get("/admin/fx-rates").status_code == 403
