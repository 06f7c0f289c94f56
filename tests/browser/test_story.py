"""The whole story in a real browser against a real server.

A founder registers, creates a firm and a project, submits it; an admin (made with the
service, as `flask users create-admin` does) approves it; the founder launches it; a
backer pledges with the sandbox card pm_card_visa, sees the receipt and the progress bar
move. Once for a reward campaign, once for an equity one (investor profile, disclosure
PDFs, shares). Screenshots of the main pages go to tests/artifacts/ (desktop and phone).
"""

import itertools
import re

import pytest

from tests.browser.authenticator import AuthenticatorApp
from tests.browser.conftest import shoot
from tests.browser.images import gradient_png
from tests.browser.story_media_steps import add_story_media, see_story_media
from tests.support.factories import PDF_BYTES, VALID_USCC
from tests.support.mail_links import last_mail, link_in

pytestmark = pytest.mark.browser

PASSWORD = "a long browser password"
PHONE = AuthenticatorApp()  # the admins' (ADMIN_2FA_REQUIRED): each enrols at its first sign-in
_seq = itertools.count(1)


def expect_ok(response):
    assert response is not None and response.status < 400, response and response.status


def register(page, live, name, email):
    """Sign up, then confirm the address with the link in the mail (pledging and submitting need it)."""
    base = live.url
    page.goto(f"{base}/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_label("I accept the terms of use and the privacy notice.").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_text(f"Welcome to Crowdfund, {name}.").is_visible()
    with live.app.app_context():
        link = link_in(last_mail(email, app=live.app), "/account/verify/")
    page.goto(link)
    assert page.get_by_text(f"{email} is confirmed as your email address").is_visible()


def log_in(page, base, email):
    page.goto(f"{base}/account/login")
    page.locator("#email").fill(email)  # by id: the page may be in any language
    page.locator("#password").fill(PASSWORD)
    page.locator("main form input[type=submit]").click()
    page.wait_for_load_state()
    assert "/account/login" not in page.url
    if page.url.endswith("/account/2fa"):  # an admin's first sign-in: two-factor enrolment first
        PHONE.enrol(page, email)
    elif page.url.endswith("/account/2fa/verify"):
        PHONE.answer(page, email)


def make_admin(live, email):
    from crowdfund.extensions import db
    from crowdfund.services import accounts

    with live.app.app_context():
        accounts.make_admin(email, PASSWORD, "Ada Admin")
        db.session.commit()


def register_firm(page, base, name, country="GB", number=None):
    page.goto(f"{base}/firms/new")
    page.get_by_label("Legal name").fill(name)
    page.get_by_label("Country of registration").select_option(country)
    page.get_by_label("Registration number").fill(number or f"{next(_seq) + 10_000_000:08d}")
    page.get_by_label("Registered address").fill("1 High Street, London")
    page.get_by_label("What the firm does").fill("Small-batch goods, made carefully.")
    page.get_by_role("button", name="Save firm").click()
    assert page.get_by_text(f"{name} is registered").is_visible()
    # Payouts: the sandbox's stand-in for the processor's onboarding, and back.
    page.get_by_role("button", name="Set up payouts").click()
    page.get_by_role("button", name="Submit the details (verified)").click()
    assert page.get_by_text("The payout account is verified").is_visible()


def new_project(page, base, *, kind, title, goal, currency="USD"):
    page.goto(f"{base}/projects/new")
    page.get_by_label("Equity campaign" if kind == "equity" else "Reward campaign").check()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Summary").fill("Hand-made goods from a small workshop, shipped to your door.")
    page.get_by_label("Category").select_option("design")
    page.get_by_label("Currency").select_option(currency)
    page.get_by_label("Funding goal").fill(goal)
    page.get_by_label("Planned duration (days)").fill("30")
    page.get_by_label("Description").fill(
        "## Our story\n\nWe make **durable** things in a small workshop.\n\n"
        "- Made to last\n- Repairable\n- Fairly priced"
    )
    page.get_by_label("Risks and challenges").fill("Our supplier of brass may be late.")
    page.get_by_label("Use of funds").fill("Tooling, the first batch and postage.")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(re.compile(r"/projects/\d+/edit$"))
    return int(re.search(r"/projects/(\d+)/edit", page.url).group(1))


def upload(page, kind_label, name, mime, content):
    page.get_by_label("Document").select_option(label=kind_label)
    page.get_by_label("File").set_input_files({"name": name, "mimeType": mime, "buffer": content})
    page.get_by_role("button", name="Upload").click()
    assert page.get_by_text("The file is uploaded.").is_visible()


def submit_for_review(page, base, project_id):
    page.goto(f"{base}/projects/{project_id}/submit")
    page.get_by_role("button", name="Submit for review").click()
    assert page.get_by_text("Your project is submitted.").is_visible()


def approve(page, base, title, *, shots=None):
    page.goto(f"{base}/admin/reviews")
    if shots:
        shoot(page, f"{shots}-admin-queue")
    page.get_by_role("link", name=title).first.click()
    for box in page.locator("input[type=checkbox]").all():
        box.check()
    page.get_by_label("Risk grade").select_option("B")
    page.get_by_label("Approve").check()
    page.get_by_label("Note for the founder").fill("Clear plan; the risks are stated honestly.")
    if shots:
        shoot(page, f"{shots}-admin-review")
    page.get_by_role("button", name="Record the decision").click()
    assert page.get_by_text("The decision is recorded.").is_visible()


def launch(page, base, project_id):
    page.goto(f"{base}/projects/{project_id}/launch")
    page.get_by_role("button", name="Launch the campaign").click()
    assert page.get_by_text("Your campaign is live.").is_visible()
    return page.url  # the public project page


def figures(page):
    return (
        page.get_by_test_id("raised").inner_text(),
        page.get_by_test_id("percent").inner_text(),
        page.get_by_test_id("backers").inner_text(),
    )


def test_a_reward_campaign_from_sign_up_to_a_pledge(live_server, new_page):
    base = live_server.url
    founder = new_page()
    register(founder, live_server, "Fang Founder", "fang@example.com")
    register_firm(founder, base, "Lantern Workshop Ltd")
    project_id = new_project(founder, base, kind="reward", title="Brass desk lamp", goal="1000")
    founder.get_by_role("link", name="Add a reward").click()
    founder.get_by_label("Reward title").fill("One lamp")
    founder.get_by_label("What the backer gets").fill("A brass desk lamp with a linen shade.")
    founder.get_by_label("Price", exact=True).fill("120")
    founder.get_by_label("Estimated delivery (YYYY-MM)").fill("2027-09")
    founder.get_by_label("Quantity available").fill("50")
    founder.get_by_label("Shipping", exact=True).select_option("domestic")
    founder.get_by_label("Shipping fee", exact=True).fill("8")
    founder.get_by_role("button", name="Save reward").click()
    assert founder.get_by_text("The reward is added.").is_visible()
    upload(founder, "Cover image (JPEG, PNG, WebP or GIF)", "lamp.png", "image/png", gradient_png())
    add_story_media(founder)
    shoot(founder, "reward-editor-desktop")
    submit_for_review(founder, base, project_id)

    make_admin(live_server, "ada@example.com")
    admin = new_page()
    log_in(admin, base, "ada@example.com")
    approve(admin, base, "Brass desk lamp", shots="reward")

    page_url = launch(founder, base, project_id)
    assert figures(founder) == ("$0.00", "0%", "0")
    shoot(founder, "reward-project-desktop")

    backer = new_page()
    register(backer, live_server, "Bo Backer", "bo@example.com")
    backer.goto(page_url)
    see_story_media(backer)
    backer.get_by_role("link", name="Back this project").click()
    backer.get_by_label(re.compile("One lamp")).check()
    backer.get_by_label("Pay with").select_option("pm_card_visa")
    backer.get_by_label("Recipient's name").fill("Bo Backer")
    backer.get_by_role("button", name="Pledge now").click()
    # The address is incomplete: the form comes back with the errors and what was typed.
    assert backer.get_by_text("Please correct the 4 fields marked below.").is_visible()
    assert backer.get_by_text("Enter the street address.").is_visible()
    assert backer.get_by_label("Recipient's name").input_value() == "Bo Backer"
    assert backer.get_by_label(re.compile("One lamp")).is_checked()
    shoot(backer, "reward-back-errors-desktop")
    backer.get_by_label("Street address").fill("2 Garden Lane")
    backer.get_by_label("City").fill("London")
    backer.get_by_label("Postal code").fill("SW1A 1AA")
    backer.get_by_label("Country").select_option("GB")  # the lamp ships within the (British) firm's country only
    backer.get_by_label("Pay with").select_option("pm_card_visa")
    backer.get_by_role("button", name="Pledge now").click()
    backer.wait_for_url(re.compile(r"/pledges/\d+$"))
    assert backer.get_by_test_id("receipt-amount").inner_text() == "$128.00"
    assert backer.get_by_text("In escrow", exact=True).first.is_visible()
    shoot(backer, "reward-receipt-desktop")

    backer.goto(page_url)
    assert figures(backer) == ("$128.00", "12%", "1")
    assert backer.locator("progress").first.get_attribute("value") == "12"
    assert "China Standard Time" in backer.locator(".deadline-line").inner_text()  # the viewer's zone
    shoot(backer, "reward-project-after-pledge-desktop")
    backer.goto(f"{base}/me/pledges")
    assert backer.get_by_role("link", name="Brass desk lamp", exact=True).is_visible()
    shoot(backer, "my-pledges-desktop")

    founder.goto(f"{base}/projects/{project_id}/dashboard")
    assert founder.get_by_test_id("dash-raised").inner_text() == "$128.00"
    assert founder.locator(".chart-wide svg.chart").is_visible()
    assert founder.locator(".chart-wide svg.chart polyline").count() == 1
    shoot(founder, "founder-dashboard-desktop")
    founder.get_by_role("link", name="Post an update").first.click()
    founder.get_by_label("Title", exact=True).fill("The first lamps are cast")
    founder.get_by_label("Update", exact=True).fill("Thank you! The **first ten** bases came out of the mould today.")
    founder.get_by_role("button", name="Post the update").click()
    assert founder.get_by_text("Your update is posted. Your backers will get it by email.").is_visible()
    with founder.expect_download() as download:
        founder.get_by_role("link", name="Download backers (CSV)").click()
    assert "Bo Backer" in download.value.path().read_text(encoding="utf-8-sig")
    backer.goto(page_url)
    assert backer.get_by_role("heading", name="The first lamps are cast").is_visible()

    # The same pages on a phone, and the home page with its search.
    phone = new_page(phone=True)
    log_in(phone, base, "bo@example.com")
    for name, path in (
        ("home", "/"),
        ("project", page_url.replace(base, "")),
        ("back", page_url.replace(base, "") + "/back"),
        ("my-pledges", "/me/pledges"),
    ):
        expect_ok(phone.goto(base + path))
        shoot(phone, f"{name}-phone")
    phone.goto(f"{base}/?q=lamp&sort=most_funded")
    assert phone.get_by_role("link", name="Brass desk lamp", exact=True).is_visible()
    phone.get_by_text("Menu").click()
    shoot(phone, "menu-open-phone")
    founder_phone = new_page(phone=True)
    log_in(founder_phone, base, "fang@example.com")
    founder_phone.goto(f"{base}/projects/{project_id}/dashboard")
    shoot(founder_phone, "founder-dashboard-phone")
    home = new_page()
    home.goto(f"{base}/")
    shoot(home, "home-desktop")
    chinese = new_page(phone=True, locale="zh-CN")
    log_in(chinese, base, "bo@example.com")
    chinese.goto(page_url)
    assert chinese.get_by_role("link", name="支持这个项目").is_visible()
    shoot(chinese, "project-zh-phone")
    chinese.goto(f"{base}/me/pledges")
    shoot(chinese, "my-pledges-zh-phone")


def test_an_equity_campaign_from_sign_up_to_an_investment(live_server, new_page):
    base = live_server.url
    founder = new_page()
    register(founder, live_server, "Wei Founder", "wei@example.com")
    register_firm(founder, base, "Hangzhou Lantern Tea Co., Ltd.", country="CN", number=VALID_USCC[1])
    project_id = new_project(founder, base, kind="equity", title="Lantern Tea shares", goal="5000")
    founder.get_by_role("link", name="Enter the terms").click()
    founder.get_by_label("Price per share").fill("10")
    founder.get_by_label("Shares offered (the most that can be sold)").fill("1000")
    founder.get_by_label("Minimum investment (shares)").fill("5")
    founder.get_by_label("Shares outstanding before the offering").fill("100000")
    founder.get_by_label("Pre-money valuation").fill("1000000")
    founder.get_by_role("button", name="Save equity terms").click()
    assert founder.get_by_text("The equity terms are saved.").is_visible()
    upload(founder, "Business plan (PDF)", "plan.pdf", "application/pdf", PDF_BYTES)
    upload(founder, "Financial statements (PDF)", "accounts.pdf", "application/pdf", PDF_BYTES)
    submit_for_review(founder, base, project_id)

    make_admin(live_server, "root@example.com")
    admin = new_page()
    log_in(admin, base, "root@example.com")
    approve(admin, base, "Lantern Tea shares")
    page_url = launch(founder, base, project_id)

    investor = new_page()
    register(investor, live_server, "Ivy Investor", "ivy@example.com")
    investor.goto(page_url)
    assert investor.get_by_text("Investing is risky").first.is_visible()
    investor.get_by_role("link", name="Invest", exact=True).click()
    investor.get_by_role("link", name="Complete your investor profile").first.click()
    investor.get_by_label("Currency").select_option("USD")
    investor.get_by_label("Annual income").fill("80000")
    investor.get_by_label("Net worth").fill("120000")
    investor.get_by_label(re.compile("I understand that I may lose")).check()
    investor.get_by_role("button", name="Save my investor profile").click()
    investor.wait_for_url(re.compile(r"/back$"))
    investor.get_by_label("Number of shares").fill("2")
    investor.get_by_label(re.compile("I may lose all the money I invest in this offering")).check()
    investor.get_by_label("Pay with").select_option("pm_card_visa")
    investor.get_by_role("button", name="Invest now").click()
    assert investor.get_by_text("The smallest investment is 5 shares.").first.is_visible()
    assert investor.get_by_label("Number of shares").input_value() == "2"
    investor.get_by_label("Number of shares").fill("50")
    investor.get_by_label(re.compile("I may lose all the money I invest in this offering")).check()
    investor.get_by_label("Pay with").select_option("pm_card_visa")
    shoot(investor, "equity-invest-desktop")
    investor.get_by_role("button", name="Invest now").click()
    investor.wait_for_url(re.compile(r"/pledges/\d+$"))
    assert investor.get_by_test_id("receipt-amount").inner_text() == "$500.00"
    assert investor.get_by_text("50 shares").first.is_visible()
    shoot(investor, "equity-receipt-desktop")
    investor.goto(page_url)
    assert figures(investor) == ("$500.00", "10%", "1")
    assert investor.get_by_role("link", name="Business plan").is_visible()
    shoot(investor, "equity-project-desktop")
    phone = new_page(phone=True)
    phone.goto(page_url)
    shoot(phone, "equity-project-phone")
    chinese = new_page(locale="zh-CN")
    chinese.goto(page_url)
    assert chinese.get_by_role("link", name="投资").first.is_visible()
    shoot(chinese, "equity-project-zh-desktop")


def test_the_other_pages_on_a_phone_and_a_desktop(live_server, new_page):
    """Sign-up, log-in, firms, the project form and the admin pages: they render, nothing
    overflows on a phone, and the screenshots are there to look at."""
    from crowdfund.extensions import db
    from crowdfund.services import accounts, firms

    base = live_server.url
    with live_server.app.app_context():
        accounts.make_admin("pages-admin@example.com", PASSWORD, "Page Admin")
        owner = accounts.register("pages-founder@example.com", PASSWORD, "Page Founder")
        firms.register_firm(
            owner,
            {
                "legal_name": "Page Firm Ltd",
                "country": "GB",
                "registration_number": "77777777",
                "address": "1 Page Street",
            },
        )
        db.session.commit()
    pages = {
        "anonymous": ["/account/login", "/account/register", "/no-such-page"],
        "pages-founder@example.com": [
            "/firms/",
            "/firms/new",
            "/projects/",
            "/projects/new",
            "/me/pledges",
            "/me/investor-profile",
        ],
        "pages-admin@example.com": ["/admin/reviews", "/admin/campaigns", "/admin/users", "/admin/firm-changes"],
    }
    for who, paths in pages.items():
        for phone in (False, True):
            page = new_page(phone=phone)
            if who != "anonymous":
                log_in(page, base, who)
            for path in paths:
                response = page.goto(base + path)
                assert response.status == (404 if path == "/no-such-page" else 200), path
                name = path.strip("/").replace("/", "-") or "home"
                shoot(page, f"page-{name}-{'phone' if phone else 'desktop'}")
