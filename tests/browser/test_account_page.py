"""The account page in a real browser on a phone: it fits 390 px without sideways scrolling,
in English and in Chinese, and "Download my data" saves a JSON file with the person's pledge.
Screenshots go to tests/artifacts/account-*.png."""

import json
import re

import pytest

from tests.browser.conftest import shoot
from tests.browser.test_story import PASSWORD, log_in

pytestmark = pytest.mark.browser

PEOPLE = {
    "en": ("Ada Lovelace-Byron of Ockham", "ada.lovelace.byron.of.ockham@example.com"),
    "zh": ("李娜", "li.na@example.com"),
}


@pytest.fixture(scope="module")
def pledges(live_server):
    """Each person's one pledge id: a held pledge on a live campaign with a shipped reward."""
    from crowdfund.extensions import db
    from crowdfund.workflows import checkout
    from tests.accounts.helpers import ADDRESS, shipping_campaign
    from tests.support.factories import Factories

    with live_server.app.app_context():
        make = Factories(db)
        project = shipping_campaign(make, db)
        found = {}
        for language, (name, email) in PEOPLE.items():
            person = make.user(name=name, email=email, password=PASSWORD)
            held = checkout.place_pledge(
                person,
                project,
                idempotency_key=f"browser-account-{language}",
                payment_method="pm_card_visa",
                tier_id=project.tiers[0].id,
                shipping_address=ADDRESS,
            )
            assert held.status == "held"
            found[language] = held.id
        db.session.remove()
        return found


@pytest.mark.parametrize(
    "language, locale, heading, button",
    [
        ("en", "en-US", "Your account", "Download my data"),
        ("zh", "zh-CN", "您的账户", "下载我的数据"),
    ],
)
def test_download_my_data_on_a_phone(new_page, live_server, pledges, language, locale, heading, button):
    name, email = PEOPLE[language]
    page = new_page(phone=True, locale=locale)
    log_in(page, live_server.url, email)
    page.goto(f"{live_server.url}/account")
    assert page.locator("html").get_attribute("lang") == ("zh-Hans" if language == "zh" else "en")
    assert page.get_by_role("heading", name=heading, exact=True).is_visible()
    shoot(page, f"account-{language}-phone")  # and no sideways scrolling at 390 px

    with page.expect_download() as download:
        page.get_by_role("link", name=button).click()
    assert re.fullmatch(r"crowdfund-my-data-\d+\.json", download.value.suggested_filename)
    with open(download.value.path(), encoding="utf-8") as saved:
        data = json.load(saved)
    assert data["profile"]["name"] == name and data["profile"]["email"] == email
    [pledge] = data["pledges"]
    assert pledge["id"] == pledges[language] and pledge["status"] == "held" and pledge["amount"] == 3000
    assert pledge["shipping_address"]["city"] == "London"
    assert PASSWORD not in json.dumps(data, ensure_ascii=False)
