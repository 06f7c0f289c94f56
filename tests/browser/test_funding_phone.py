"""Issue 23 at 390 px: the statement, /me/holdings and /admin/settlements fit a phone without
sideways scrolling, in English and Chinese (axe-core audits every page, as for every browser
test). Screenshots go to tests/artifacts/funding-*.png."""

import pytest

from tests.browser.conftest import shoot
from tests.browser.test_story import PASSWORD, log_in, make_admin

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ended(live_server):
    """A settled equity offering (shares on the register) and a flexible campaign that paid its
    firm below its goal; their founders' and the first investor's emails."""
    from crowdfund.extensions import db
    from tests.support.factories import Factories
    from tests.support.settlement import close, equity_campaign

    with live_server.app.app_context():
        make = Factories(db)
        offering, held = equity_campaign(make, db, goal="100", investors=2, shares=12)
        close(db, offering)
        investor = held[0].backer
        investor.name = "Wilhelmina Featherstonehaugh-Cholmondeley"
        flexible = make.live_project(goal="5000", funding_model="flexible")
        from crowdfund.services import stretch_goals

        stretch_goals.add_stretch_goal(
            make.founder_of(flexible), flexible, {"amount": 900_000, "title": "A second colour", "description": "Blue."}
        )
        founder = make.founder_of(offering)
        for user in (founder, investor):
            user.password_hash = __import__("werkzeug.security").security.generate_password_hash(PASSWORD)
        db.session.commit()
        found = {
            "offering": offering.id,
            "flexible": flexible.id,
            "flexible_slug": flexible.slug,
            "founder": founder.email,
            "investor": investor.email,
        }
        db.session.remove()
    make_admin(live_server, "settlements-admin@example.com")
    return found


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_statement_holdings_and_settlements_fit_a_phone(new_page, live_server, ended, locale):
    base, tag = live_server.url, locale[:2]
    page = new_page(phone=True, locale=locale)
    log_in(page, base, ended["founder"])
    page.goto(f"{base}/projects/{ended['offering']}/statement")
    shoot(page, f"funding-statement-{tag}")

    investor = new_page(phone=True, locale=locale)
    log_in(investor, base, ended["investor"])
    investor.goto(f"{base}/me/holdings")
    assert investor.locator("[data-testid=stake]").first.inner_text().endswith("%")
    shoot(investor, f"funding-holdings-{tag}")
    investor.goto(f"{base}/me/pledges")
    shoot(investor, f"funding-my-pledges-{tag}")

    admin = new_page(phone=True, locale=locale)
    log_in(admin, base, "settlements-admin@example.com")
    admin.goto(f"{base}/admin/settlements")
    shoot(admin, f"funding-admin-settlements-{tag}")


def test_the_funding_card_shows_flexible_funding_and_stretch_goals_uncut(new_page, live_server, ended):
    for phone in (False, True):
        page = new_page(phone=phone)
        page.goto(f"{live_server.url}/p/{ended['flexible_slug']}")
        card = page.locator(".funding-card")
        assert card.get_by_test_id("funding-model").get_by_text("Flexible funding").is_visible()
        assert card.get_by_text("A second colour").is_visible()
        cut = page.evaluate(
            "[...document.querySelectorAll('.funding-card .stat dd')].filter(d => d.scrollWidth > d.clientWidth).length"
        )
        assert cut == 0, "a figure of the funding card is cut"
        shoot(page, f"funding-campaign-{'phone' if phone else 'desktop'}")
