"""The conversation on a campaign page in a real browser, in English and in Chinese: a backer
asks (on a phone), the founder answers as the firm, another person reports the question, an
administrator hides it, and its text is gone from the page and the API."""

import pytest

from tests.browser.authenticator import AuthenticatorApp
from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser

PHONE_APP = AuthenticatorApp()
WORDS = {  # what a person reads, by language
    "en-US": {"founder": "Founder", "backer": "Backer", "hidden": "This comment was hidden by the moderators."},
    "zh-CN": {"founder": "发起人", "backer": "支持者", "hidden": "这条评论已被管理员隐藏。"},
}


def world(live, suffix):
    """A live campaign, its founder, a backer with a held pledge, someone else and an admin."""
    from crowdfund.extensions import db
    from crowdfund.models import UserTwoFactor
    from tests.conversation.conftest import back
    from tests.support.factories import Factories

    with live.app.app_context():
        make = Factories(db)
        founder = make.user(email=f"fang-{suffix}@example.com", name="Fang Founder")
        project = make.live_project(
            firm=make.firm(owner=founder, legal_name=f"Lantern Workshop {suffix} Ltd"),
            title=f"Brass desk lamp {suffix}",
        )
        backer = make.user(email=f"bo-{suffix}@example.com", name="Bo Backer")
        back(project, backer)
        make.user(email=f"rita-{suffix}@example.com", name="Rita Reporter")
        admin = make.admin(email=f"ada-{suffix}@example.com")
        PHONE_APP.secrets[admin.email] = db.session.get(UserTwoFactor, admin.id).secret
        db.session.commit()
        return project.id, project.slug, project.firm.legal_name, project.firm_id


def log_in(page, base, email):
    from tests.support.factories import PASSWORD

    page.goto(f"{base}/account/login")
    page.locator("#email").fill(email)  # by id: the page is in either language
    page.locator("#password").fill(PASSWORD)
    page.locator("main form input[type=submit]").click()
    page.wait_for_load_state()
    if page.url.endswith("/account/2fa/verify"):
        PHONE_APP.answer(page, email)
    assert "/account/" not in page.url


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_ask_answer_report_hide(live_server, new_page, locale):
    base, words, suffix = live_server.url, WORDS[locale], locale.split("-")[0]
    project_id, slug, firm_name, firm_id = world(live_server, suffix)
    question_text = f"Can the shade be replaced later? ({suffix})"

    backer = new_page(phone=True, locale=locale)
    log_in(backer, base, f"bo-{suffix}@example.com")
    backer.goto(f"{base}/p/{slug}")
    backer.locator("#comment-body").fill(question_text)
    backer.locator("#questions form.comment-form button[type=submit]").click()
    question = backer.locator("article.comment", has_text=question_text)
    assert question.locator(".badge-backer").inner_text() == words["backer"]
    shoot(backer, f"conversation-question-{suffix}-phone")

    founder = new_page(locale=locale)
    log_in(founder, base, f"fang-{suffix}@example.com")
    founder.goto(f"{base}/p/{slug}#questions")
    thread = founder.locator("li.comment-thread", has_text=question_text)
    thread.locator("details.comment-reply summary").click()
    thread.locator("textarea[name=body]").fill("Yes: every part can be ordered separately.")
    thread.locator("details.comment-reply button[type=submit]").click()
    answer = founder.locator("article.comment-firm", has_text="every part can be ordered separately")
    assert answer.locator(".badge-founder").inner_text() == words["founder"]
    assert answer.locator("strong").first.inner_text() == firm_name  # labelled as the firm
    shoot(founder, f"conversation-answer-{suffix}-desktop")

    reporter = new_page(locale=locale)
    log_in(reporter, base, f"rita-{suffix}@example.com")
    reporter.goto(f"{base}/p/{slug}")
    reporter.locator("article.comment", has_text=question_text).locator("a[href$='/report']").click()
    reporter.locator("#reason").fill("Off topic and rude.")
    reporter.locator("main form button[type=submit]").click()
    reporter.wait_for_url(f"{base}/p/{slug}*")

    admin = new_page(locale=locale)
    log_in(admin, base, f"ada-{suffix}@example.com")
    admin.goto(f"{base}/admin/comments")
    reported = admin.locator("li.reported-comment", has_text=question_text)
    assert "Off topic and rude." in reported.inner_text()
    reported.locator("a[href$='/hide']").click()
    admin.locator("#reason").fill("Abusive.")
    admin.locator("main form button[type=submit]").click()
    admin.wait_for_url(f"{base}/admin/comments")
    assert question_text not in admin.content()

    backer.reload()  # the page the backer still has open, as it is now
    assert question_text not in backer.content()
    assert backer.get_by_text(words["hidden"]).first.is_visible()
    assert backer.get_by_text("every part can be ordered separately").first.is_visible()  # the thread stays
    shoot(backer, f"conversation-hidden-{suffix}-phone")
    listing = backer.request.get(f"{base}/api/v1/projects/{project_id}/comments")
    assert listing.ok and question_text not in listing.text() and listing.json()["items"][0]["hidden"] is True

    backer.goto(f"{base}/firms/{firm_id}")  # the firm's public record, on the phone too
    assert backer.locator("h1").inner_text() == firm_name
    assert backer.locator("#campaigns a", has_text=f"Brass desk lamp {suffix}").is_visible()
    shoot(backer, f"firm-profile-{suffix}-phone")
