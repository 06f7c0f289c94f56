"""Release on delivery in a real browser: the founder records a shipment on the shipping page,
the backer sees the tracking number on the receipt and confirms receipt, in English on a desktop
and in Chinese on a phone. The campaign (on_delivery, two backers, succeeded and settled) is set
up once, straight in the live server's database. Screenshots: tests/artifacts/delivery-*.png."""

from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.browser.conftest import shoot
from tests.browser.test_story import PASSWORD, log_in

pytestmark = pytest.mark.browser

FOUNDER = "fred@example.com"
BACKERS = {"en": ("Bea Backer", "bea@example.com"), "zh": ("王芳", "wang.fang@example.com")}


@dataclass
class Campaign:
    project_id: int
    pledges: dict  # language -> pledge id


@pytest.fixture(scope="module")
def campaign(live_server):
    from crowdfund.extensions import db
    from crowdfund.models import utcnow
    from crowdfund.services.campaigns import close_due
    from crowdfund.workflows import checkout, settlement
    from tests.support.factories import Factories

    with live_server.app.app_context():
        make = Factories(db)
        founder = make.user(email=FOUNDER, name="Fred Founder", password=PASSWORD)
        firm = make.firm(owner=founder, legal_name="Kiln Works Ltd")
        project = make.live_project(
            firm=firm, title="Stoneware mugs", goal="40", currency="USD", release_model="on_delivery"
        )
        pledges = {}
        for language, (name, email) in BACKERS.items():
            backer = make.user(email=email, name=name, password=PASSWORD)
            pledge = checkout.place_pledge(
                backer,
                project,
                idempotency_key=f"browser-delivery-{language}",
                payment_method="pm_card_visa",
                tier_id=project.tiers[0].id,
            )
            assert pledge.status == "held"
            pledges[language] = pledge.id
        close_due(now=project.deadline + timedelta(seconds=1))
        db.session.commit()
        db.session.info.clear()
        settlement.settle(project.id, now=utcnow())
        return Campaign(project.id, pledges)


def delivery_status(live_server, pledge_id):
    from crowdfund import ledger
    from crowdfund.extensions import db
    from crowdfund.services import deliveries

    with live_server.app.app_context():
        status = deliveries.delivery_of(pledge_id).status
        problems = ledger.verify()
        db.session.rollback()
        return status, problems


@pytest.mark.parametrize(
    "language, options",
    [("en", {}), ("zh", {"phone": True, "locale": "zh-CN"})],
    ids=["english-desktop", "chinese-phone"],
)
def test_the_founder_ships_and_the_backer_confirms(new_page, live_server, campaign, language, options):
    pledge_id = campaign.pledges[language]
    name = "phone" if options.get("phone") else "desktop"

    founder = new_page(**options)
    log_in(founder, live_server.url, FOUNDER)
    founder.goto(f"{live_server.url}/projects/{campaign.project_id}/shipments")
    founder.locator(f"[data-testid=ship-{pledge_id}]").check()
    founder.locator("#carrier").fill("SF Express")
    founder.locator("#tracking").fill(f"SF{pledge_id:010d}")
    founder.locator("[data-testid=shipment-form] input[type=submit]").click()
    founder.wait_for_load_state()
    row = founder.locator(f"[data-testid=delivery-{pledge_id}]")
    assert f"SF{pledge_id:010d}" in row.inner_text()
    assert ("已发货" if language == "zh" else "Shipped") in row.inner_text()
    shoot(founder, f"delivery-shipments-{language}-{name}")
    assert delivery_status(live_server, pledge_id) == ("shipped", [])

    backer = new_page(**options)
    log_in(backer, live_server.url, BACKERS[language][1])
    backer.goto(f"{live_server.url}/pledges/{pledge_id}")
    assert f"SF{pledge_id:010d}" in backer.locator("[data-testid=delivery-tracking]").inner_text()
    if language == "zh":
        assert backer.locator("html").get_attribute("lang") == "zh-Hans"
    backer.locator("#delivery form input[type=submit]").first.click()
    backer.wait_for_load_state()
    assert backer.locator("[data-testid=delivery-status]").inner_text() == (
        "已交付" if language == "zh" else "Delivered"
    )
    shoot(backer, f"delivery-receipt-{language}-{name}")
    assert delivery_status(live_server, pledge_id) == ("released", [])
