"""The backing page and a change of pledge in a real browser, on a 390 px phone: the reward
first, then only what it needs; every total shown before paying is what is charged; a
domestic-only reward refuses a foreign address; the backer upgrades keeping the place, adds an
add-on, moves house, and the ledger and the statement agree to the cent."""

import re
from datetime import timedelta

import pytest

from tests.browser.conftest import axe_source, browser, live_server, new_page, shoot  # noqa: F401 - fixtures
from tests.browser.test_story import PASSWORD, log_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def campaign(live_server):  # noqa: F811 - the fixture imported above
    from crowdfund.extensions import db
    from crowdfund.models import utcnow
    from crowdfund.services import campaigns, reviews
    from crowdfund.services.projects import add_ons, submission
    from tests.support.factories import Factories

    with live_server.app.app_context():
        make = Factories(db)
        founder = make.user(email="fern@example.com", name="Fern Founder", password=PASSWORD)
        firm = make.firm(owner=founder, legal_name="Brass Works Ltd")  # a British firm
        project = make.project(firm=firm, complete=False, title="Brass lamps", goal="1000", currency="USD")
        lamp = make.tier(project, title="Lamp", price="40", quantity="1", shipping="worldwide", shipping_fee="6")
        deluxe = make.tier(
            project, title="Deluxe lamp", price="90", quantity="5", shipping="worldwide", shipping_fee="6"
        )
        make.tier(project, title="UK only", price="30", shipping="domestic", shipping_fee="5")
        make.tier(project, title="Thank-you note", price="5", shipping="none")
        add_ons.add_add_on(founder, project, {"title": "Spare shade", "price": 800, "quantity": 5})
        db.session.commit()
        submission.submit(founder, project)
        reviews.review_project(
            make.admin(),
            project,
            "approve",
            risk_grade="B",
            note="Clear plan.",
            checklist={key: True for key in reviews.applicable_checks(project)},
        )
        campaigns.launch(founder, project, utcnow() + timedelta(days=20))
        db.session.commit()
        make.user(email="pat@example.com", name="Pat Phone", password=PASSWORD)
        return {"url": f"{live_server.url}/p/{project.slug}", "id": project.id, "lamp": lamp.id, "deluxe": deluxe.id}


def total(page):
    cell = page.locator('[data-total="total"]')
    return int(cell.get_attribute("data-minor")), cell.inner_text()


def fill_address(page, country, city="Lyon"):
    page.get_by_label("Recipient's name").fill("Pat Phone")
    page.get_by_label("Street address").fill("3 Rue Neuve")
    page.get_by_label("City", exact=True).fill(city)
    page.get_by_label("Postal code").fill("69001")
    page.get_by_label("Country", exact=True).select_option(country)


def books(server, project_id):
    from crowdfund import ledger
    from crowdfund.extensions import db
    from crowdfund.models import Project
    from crowdfund.services import statements

    with server.app.app_context():
        project = db.session.get(Project, project_id)
        money = statements.statement(project)
        return ledger.verify(), project.pledged_amount, money["gross"], money["in_escrow"]


def test_back_then_upgrade_add_and_move_on_a_phone(live_server, campaign, new_page):  # noqa: F811
    page = new_page(phone=True)
    log_in(page, live_server.url, "pat@example.com")
    page.goto(campaign["url"] + "/back")
    # Nothing is chosen for the backer, and nothing but the rewards is asked yet.
    assert page.locator('input[name="tier_id"]:checked').count() == 0, page.content()[:3000]
    assert not page.get_by_label("Quantity").is_visible()
    assert not page.get_by_label("Recipient's name").is_visible()
    page.get_by_label(re.compile("Thank-you note")).check()
    assert page.get_by_label("Quantity").is_visible() and not page.get_by_label("Recipient's name").is_visible()
    assert total(page) == (500, "$5.00")

    # A domestic-only reward to China: the total says so, and the pledge is refused.
    page.get_by_label(re.compile("UK only")).check()
    fill_address(page, "CN", city="Shanghai")
    assert page.locator('[data-total="total"]').inner_text() == "—"
    assert "does not ship" in page.locator('[data-total="note"]').inner_text()
    page.get_by_label("Pay with").select_option("pm_card_visa")
    page.get_by_role("button", name="Pledge now").click()
    assert page.get_by_text("“UK only” does not ship to this country.").first.is_visible()

    # The lamp with a spare shade, to France: the total shown is what is charged.
    page.get_by_label(re.compile(r"Lamp\s+\$40")).check()
    page.get_by_label(re.compile("Spare shade")).fill("1")
    fill_address(page, "FR")
    shown = total(page)
    assert shown == (4000 + 800 + 600, "$54.00")
    assert page.get_by_test_id("pledge-summary").inner_text() == "Lamp × 1, Spare shade × 1"
    shoot(page, "backing-total-phone")  # and no sideways scrolling at 390 px
    page.get_by_label("Pay with").select_option("pm_card_visa")
    page.get_by_role("button", name="Pledge now").click()
    page.wait_for_url(re.compile(r"/pledges/\d+$"))
    assert page.get_by_test_id("receipt-amount").inner_text() == shown[1]
    problems, pledged, gross, escrow = books(live_server, campaign["id"])
    assert (problems, pledged, gross, escrow) == ([], 5400, 5400, 5400)

    # Upgrade to the deluxe lamp (the last lamp is kept until the change is paid), move house.
    page.get_by_test_id("change-pledge").click()
    page.wait_for_url(re.compile(r"/pledges/\d+/change$"))
    assert page.get_by_label(re.compile(r"Lamp\s+\$40")).is_checked()
    page.get_by_label(re.compile("Deluxe lamp")).check()
    page.get_by_label("City", exact=True).fill("Paris")
    shown = total(page)
    assert shown == (9000 + 800 + 600, "$104.00")
    shoot(page, "backing-change-phone")
    page.get_by_role("button", name="Save the change").click()
    page.wait_for_url(re.compile(r"/pledges/\d+$"))
    assert page.get_by_test_id("receipt-amount").inner_text() == shown[1]
    assert "Paris" in page.locator(".receipt").inner_text()
    assert "Spare shade × 1" in page.get_by_test_id("receipt-add-ons").inner_text()
    problems, pledged, gross, escrow = books(live_server, campaign["id"])
    assert (problems, pledged, gross, escrow) == ([], 10400, 10400, 10400)  # to the cent
