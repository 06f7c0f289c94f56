"""Issue 21 items 3 and 6 on a 390 px phone, in English and Chinese: the campaign page with its
"Changes" list, a backers-only update and the "Remind me" button; the notification choices; the
administrators' look at a change. No page scrolls sideways (`shoot`), and axe-core audits each
one, as for every browser test."""

import pytest

from tests.browser.conftest import shoot
from tests.browser.test_story import PASSWORD, log_in, make_admin

pytestmark = pytest.mark.browser

NEW_RISKS = "The foundry may be late by two months, and the price of brass may rise before we order it."


@pytest.fixture(scope="module")
def changed(live_server):
    """A live campaign whose risks changed after approval, with a backers-only update; a signed-up
    visitor who is not a backer."""
    from werkzeug.security import generate_password_hash

    from crowdfund.extensions import db
    from crowdfund.services import updates
    from crowdfund.services.projects import basics
    from tests.conversation.conftest import back
    from tests.support.factories import Factories

    with live_server.app.app_context():
        make = Factories(db)
        project = make.live_project(title="Brass reading lamp", risks="The foundry may be late.")
        founder = make.founder_of(project)
        backer = make.user(name="Bo Backer")
        back(project, backer)
        basics.update_project(founder, project, {"risks": NEW_RISKS})
        updates.post_update(founder, project, "Casting begins", "The first moulds are **ready**.", audience="backers")
        visitor = make.user(name="Vi Visitor")
        visitor.password_hash = generate_password_hash(PASSWORD)
        db.session.commit()
        found = {"slug": project.slug, "id": project.id, "visitor": visitor.email}
        db.session.remove()
    make_admin(live_server, "changes-admin@example.com")
    return found


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_changes_reminders_and_choices_fit_a_phone(new_page, live_server, changed, locale):
    base, tag, english = live_server.url, locale[:2], locale == "en-US"
    page = new_page(phone=True, locale=locale)
    log_in(page, base, changed["visitor"])
    page.goto(f"{base}/p/{changed['slug']}")
    changes = page.locator("#changes")
    assert changes.get_by_text("Changes since approval" if english else "批准后的更改").is_visible()
    assert changes.get_by_text("The risks and challenges changed." if english else "风险与挑战已更改。").is_visible()
    # The backers-only update: its title shows, its text does not (the visitor is no backer).
    assert page.get_by_text("Casting begins").is_visible()
    assert page.get_by_text("The first moulds are").count() == 0
    remind = page.get_by_test_id("remind-me")
    was = remind.get_attribute("aria-pressed")  # the first language's run set it
    remind.click()
    page.wait_for_load_state()
    assert page.get_by_test_id("remind-me").get_attribute("aria-pressed") == {"false": "true", "true": "false"}[was]
    shoot(page, f"conversation-campaign-{tag}")

    page.goto(f"{base}/account/notifications")
    boxes = page.locator("input[type=checkbox]")
    assert boxes.count() >= 6 and all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    shoot(page, f"conversation-notifications-{tag}")

    admin = new_page(phone=True, locale=locale)
    log_in(admin, base, "changes-admin@example.com")
    admin.goto(f"{base}/admin/changes")
    admin.get_by_role("link", name="Brass reading lamp").first.click()
    admin.wait_for_load_state()
    assert admin.get_by_text("by two months").first.is_visible()
    shoot(admin, f"conversation-admin-change-{tag}")
