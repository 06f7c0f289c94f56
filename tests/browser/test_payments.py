"""Paying in a real browser through the sandbox's bank and wallet pages.

One live reward campaign is set up once, straight in the live server's database (the
campaign is not the point here; test_story.py creates one through the pages). Then, as
backers: a 3-D Secure card completed and failed, Alipay in Chinese on a phone, WeChat Pay's
QR code, and a payment left waiting until `reconcile_pending` expires it. Each test looks at
what the backer sees (the sandbox page, the receipt, the campaign page) and, in the database,
at the pledge and the ledger. Screenshots go to tests/artifacts/payments-*.png.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.browser.conftest import shoot
from tests.browser.test_story import PASSWORD, log_in
from tests.web.test_chinese import english_words

pytestmark = pytest.mark.browser

TITLE = "Brass desk lamp"
TIER = "One lamp"
TIER_TEXT = "A brass desk lamp with a linen shade."
FIRM = "Lantern Workshop Ltd"
QUANTITY = 50
AMOUNT = "$120.00"  # the reward, no shipping
THREE_D_SECURE = "Visa •••• 3220 (asks for 3-D Secure)"
BACKERS = {
    "desktop": ("Dee Desktop", "dee@example.com"),
    "phone": ("Pia Phone", "pia@example.com"),
    "chinese": ("李娜", "li.na@example.com"),
    "wechat": ("Wen Wechat", "wen@example.com"),
    "abandon": ("Abe Abandon", "abe@example.com"),
    "later": ("Lou Later", "lou@example.com"),
}
# The founder's own words may stay English on a Chinese page; ours may not.
CAMPAIGN_WORDS = set(re.findall(r"[A-Za-z]{3,}", f"{TITLE} {TIER} {TIER_TEXT} {FIRM}"))


@dataclass
class Campaign:
    url: str  # the public campaign page
    back_url: str  # the backing form, with the reward chosen
    tier_id: int


@pytest.fixture(scope="module")
def campaign(live_server):
    from crowdfund.extensions import db
    from crowdfund.models import utcnow
    from crowdfund.services import campaigns, reviews
    from crowdfund.services.projects import submission
    from tests.support.factories import Factories

    with live_server.app.app_context():
        make = Factories(db)
        founder = make.user(email="fay@example.com", name="Fay Founder", password=PASSWORD)
        firm = make.firm(owner=founder, legal_name=FIRM)
        project = make.project(firm=firm, complete=False, title=TITLE, goal="1000", currency="USD")
        tier = make.tier(
            project, title=TIER, description=TIER_TEXT, price="120", quantity=str(QUANTITY), shipping="none"
        )
        submission.submit(founder, project)
        admin = make.admin()
        reviews.review_project(
            admin,
            project,
            "approve",
            risk_grade="B",
            note="Clear plan.",
            checklist={key: True for key in reviews.applicable_checks(project)},
        )
        campaigns.launch(founder, project, utcnow() + timedelta(days=20))
        db.session.commit()
        for name, email in BACKERS.values():
            make.user(email=email, name=name, password=PASSWORD)
        url = f"{live_server.url}/p/{project.slug}"
        return Campaign(url=url, back_url=f"{url}/back?tier={tier.id}", tier_id=tier.id)


# -- helpers ---------------------------------------------------------------------------------


def backer(new_page, live_server, who, **options):
    page = new_page(**options)
    log_in(page, live_server.url, BACKERS[who][1])
    return page


def pledge_with(page, campaign, method):
    """Back the campaign's reward with the sandbox `method`, by ids (the page may be in any
    language); the browser ends on the sandbox's bank or wallet page. Returns its URL."""
    page.goto(campaign.back_url)
    assert page.locator(f"input[name=tier_id][value='{campaign.tier_id}']").is_checked()
    page.locator("#payment_method").select_option(method)
    page.locator("form.pledge-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/sandbox/pay/\w+$"))
    return page.url


def answer(page, outcome):
    """Press the sandbox page's succeed/fail button; the browser ends on our receipt."""
    page.locator(f"button[name=outcome][value={outcome}]").click()
    page.wait_for_url(re.compile(r"/pledges/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def units_left(page, campaign):
    """The reward's 'N of 50 left', as the campaign page shows it."""
    page.goto(campaign.url)
    text = page.locator(".tier-card", has_text=TIER).locator(".tier-facts").inner_text()
    return int(re.search(rf"(\d+) of {QUANTITY} left", text).group(1))


def pledge_row(live_server, pledge_id):
    """(status, failure_code, charge_ref, the sandbox's status of that charge, the ledger's
    problems), read in the live app."""
    from crowdfund import ledger
    from crowdfund.extensions import db
    from crowdfund.models import Pledge, SandboxOperation

    with live_server.app.app_context():
        pledge = db.session.get(Pledge, pledge_id)
        charge = db.session.get(SandboxOperation, pledge.charge_ref) if pledge.charge_ref else None
        return (pledge.status, pledge.failure_code, pledge.charge_ref, charge and charge.status, ledger.verify())


def assert_held(live_server, pledge_id):
    status, _, _, charge, problems = pledge_row(live_server, pledge_id)
    assert (status, charge, problems) == ("held", "succeeded", [])


def assert_chinese(page, *must_contain):
    html = page.content()
    assert '<html lang="zh-Hans">' in html
    for text in must_contain:
        assert text in html, text
    leftover = set(english_words(html)) - CAMPAIGN_WORDS
    assert leftover == set(), sorted(leftover)


# -- the tests -------------------------------------------------------------------------------


def test_a_3d_secure_card_completed_on_the_bank_page_is_held_in_escrow(live_server, campaign, new_page):
    page = backer(new_page, live_server, "desktop")
    page.goto(campaign.url)
    # (Chromium names it "Choose this reward : One lamp": the hidden span reads as a separate word.)
    page.get_by_role("link", name=re.compile(rf"^Choose this reward\s*: {TIER}$")).click()
    page.wait_for_url(re.compile(r"/back\?tier=\d+$"))
    assert page.get_by_label(re.compile(TIER)).is_checked()
    page.get_by_label("Pay with").select_option(label=THREE_D_SECURE)
    page.get_by_role("button", name="Pledge now").click()

    page.wait_for_url(re.compile(r"/sandbox/pay/\w+$"))
    assert page.get_by_role("heading", name="Confirm this payment with your bank").is_visible()
    assert page.get_by_test_id("sandbox-amount").inner_text() == AMOUNT
    assert page.get_by_text("No real money moves.").is_visible()
    shoot(page, "payments-3ds-bank-desktop")
    page.get_by_role("button", name="Complete authentication").click()

    page.wait_for_url(re.compile(r"/pledges/\d+$"))
    pledge_id = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_text(f"Thank you! {AMOUNT} is held in escrow for {TITLE}.").is_visible()
    assert page.get_by_test_id("receipt-amount").inner_text() == AMOUNT
    assert page.get_by_text("In escrow", exact=True).is_visible()
    assert page.get_by_text("Held in escrow until the campaign ends").is_visible()
    assert page.get_by_text(f"1 × {TIER}").is_visible()
    assert page.get_by_test_id("next-action").count() == 0
    shoot(page, "payments-3ds-receipt-desktop")
    assert_held(live_server, pledge_id)


def test_a_failed_3d_secure_check_on_a_phone_fails_the_pledge_and_frees_the_reward(live_server, campaign, new_page):
    page = backer(new_page, live_server, "phone", phone=True)
    before = units_left(page, campaign)
    bank = pledge_with(page, campaign, "pm_card_threeDSecure2Required")
    assert page.get_by_role("button", name="Fail authentication").is_visible()
    shoot(page, "payments-3ds-bank-phone")
    pledge_id = answer(page, "fail")

    reason = "Your bank could not confirm this payment, so nothing was taken."
    assert page.locator(".receipt .error", has_text=reason).is_visible()  # said once, on the receipt
    assert page.locator(".flash-error").count() == 0
    assert page.get_by_role("link", name="Try again").is_visible()
    assert page.locator(".receipt .badge").inner_text() == "Failed"
    assert page.get_by_text("You were not charged.").is_visible()
    assert page.get_by_test_id("next-action").count() == 0
    shoot(page, "payments-3ds-failed-receipt-phone")
    status, code, charge_ref, charge, problems = pledge_row(live_server, pledge_id)
    assert (status, code, charge, problems) == ("failed", "authentication_failed", "declined", [])
    assert bank.endswith(charge_ref)
    assert units_left(page, campaign) == before


def test_alipay_on_a_phone_in_chinese(live_server, campaign, new_page):
    page = backer(new_page, live_server, "chinese", phone=True, locale="zh-CN")
    pledge_with(page, campaign, "pm_alipay")
    assert page.get_by_role("heading", name="使用支付宝付款").is_visible()
    assert page.get_by_test_id("sandbox-amount").inner_text().endswith("120.00")
    assert_chinese(page, "沙盒：此页面模拟银行或钱包", "请登录支付宝")
    shoot(page, "payments-alipay-zh-phone")
    assert page.get_by_role("button", name="付款", exact=True).is_visible()
    pledge_id = answer(page, "succeed")

    assert page.locator(".flash-success", has_text="感谢支持！").is_visible()
    assert page.locator(".receipt .badge").inner_text() == "托管中"
    assert_chinese(page, "感谢支持！", TITLE)
    shoot(page, "payments-alipay-receipt-zh-phone")
    assert_held(live_server, pledge_id)


def test_wechat_pay_shows_a_qr_code_and_completes(live_server, campaign, new_page):
    page = backer(new_page, live_server, "wechat")
    pledge_with(page, campaign, "pm_wechat_pay")
    assert page.get_by_role("heading", name="Pay with WeChat Pay").is_visible()
    qr = page.locator("figure.sandbox-qr-figure svg.sandbox-qr")
    assert qr.is_visible()
    assert qr.locator("title").text_content() == "QR code of this payment"
    box = qr.bounding_box()
    assert 160 <= box["width"] <= 260 and box["width"] == box["height"], box
    assert page.get_by_text("Scan this code with WeChat to pay.").is_visible()
    shoot(page, "payments-wechat-qr-desktop")
    page.get_by_role("button", name="I have paid (simulate scanning)").click()

    page.wait_for_url(re.compile(r"/pledges/\d+$"))
    pledge_id = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_text(f"Thank you! {AMOUNT} is held in escrow for {TITLE}.").is_visible()
    assert page.get_by_text("In escrow", exact=True).is_visible()
    shoot(page, "payments-wechat-receipt-desktop")
    assert_held(live_server, pledge_id)


def test_an_abandoned_payment_waits_then_expires_and_the_bank_page_takes_nothing(live_server, campaign, new_page):
    from crowdfund.models import utcnow
    from crowdfund.workflows.reconcile import reconcile_pending

    bank = backer(new_page, live_server, "abandon")  # this tab stays on the bank's page
    before = units_left(bank, campaign)
    bank_url = pledge_with(bank, campaign, "pm_card_threeDSecure2Required")

    page = bank.context.new_page()  # the backer comes back to us in another tab
    page.goto(f"{live_server.url}/me/pledges")
    row = page.locator("tr", has_text=TITLE)
    assert row.get_by_text("Waiting for your payment").is_visible()
    row.get_by_role("link", name="Receipt").click()
    page.wait_for_url(re.compile(r"/pledges/\d+$"))
    pledge_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator(".receipt .badge").inner_text() == "Waiting for your payment"
    assert page.get_by_text("Your bank or wallet is waiting for you to confirm this payment.").is_visible()
    # Where it points (not its host: see test_the_receipt_link_takes_a_waiting_backer_back_to_pay).
    assert (
        page.get_by_role("link", name="Complete your payment")
        .get_attribute("href")
        .endswith(bank_url.replace(live_server.url, ""))
    )
    shoot(page, "payments-waiting-receipt-desktop")
    assert units_left(page, campaign) == before - 1  # kept for the backer meanwhile

    app = live_server.app
    with app.app_context():
        later = utcnow() + timedelta(seconds=app.config["PLEDGE_ACTION_TIMEOUT"] + 60)
        assert reconcile_pending(now=later)["expired"] >= 1

    page.goto(f"{live_server.url}/pledges/{pledge_id}")
    assert page.locator(".receipt .badge").inner_text() == "Failed"
    assert page.get_by_text("The payment was not completed in time, so nothing was taken.").is_visible()
    assert page.get_by_test_id("next-action").count() == 0
    shoot(page, "payments-expired-receipt-desktop")
    assert units_left(page, campaign) == before

    # The bank's page was left open: its button now changes nothing.
    bank.get_by_role("button", name="Complete authentication").click()
    bank.wait_for_url(re.compile(rf"/pledges/{pledge_id}$"))
    assert bank.locator(".receipt .badge").inner_text() == "Failed"
    assert bank.locator(".receipt .error", has_text="not completed in time").is_visible()
    bank.goto(bank_url)
    assert bank.get_by_text("This payment did not go through.").is_visible()
    assert bank.locator("button[name=outcome]").count() == 0
    shoot(bank, "payments-expired-bank-desktop")
    status, code, charge_ref, charge, problems = pledge_row(live_server, pledge_id)
    assert (status, code, charge, problems) == ("failed", "action_expired", "canceled", [])
    assert bank_url.endswith(charge_ref)
    assert units_left(page, campaign) == before


@pytest.mark.browser
def test_the_receipt_link_takes_a_waiting_backer_back_to_pay(live_server, campaign, new_page):
    page = backer(new_page, live_server, "later")
    qr_url = pledge_with(page, campaign, "pm_wechat_pay")  # the backer closes the QR page...
    page.goto(f"{live_server.url}/me/pledges")  # ...and comes back to pay later
    page.locator("tr", has_text=TITLE).get_by_role("link", name="Receipt").click()
    page.wait_for_url(re.compile(r"/pledges/\d+$"))
    link = page.get_by_role("link", name="Scan the QR code to pay")
    assert link.get_attribute("href") == qr_url
    link.click()
    page.wait_for_url(qr_url)
    page.get_by_role("button", name="I have paid (simulate scanning)").click()
    page.wait_for_url(re.compile(r"/pledges/\d+$"))
    assert page.get_by_text("In escrow", exact=True).is_visible()
    assert_held(live_server, int(page.url.rsplit("/", 1)[1]))
