"""The custodian bank on pages and statements, the monthly custody report, the key investment
information sheet, and /how-investing-works with these figures."""

import csv
import io
import re
import secrets
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import update

from crowdfund import create_app, ledger
from crowdfund.domain import pdf
from crowdfund.domain.rulebooks import CustodianMissing
from crowdfund.models import LedgerTransfer, utcnow
from crowdfund.workflows import cancel, checkout
from tests.api.conftest import error_of
from tests.support.builders import investor, live_equity_project, live_reward_project
from tests.support.settlement import close

BANK = "Bank of Example, Shanghai Branch"


def text_of(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def invest(db, project, backer, shares):
    return checkout.place_pledge(
        backer,
        project,
        idempotency_key=secrets.token_urlsafe(16),
        payment_method="pm_card_visa",
        shares=shares,
        acknowledge_risks=True,
    )


def test_cn_does_not_start_without_a_custodian():
    with pytest.raises(CustodianMissing):
        create_app("testing", INVESTOR_RULEBOOK="cn", SQLALCHEMY_DATABASE_URI="sqlite://")
    create_app("testing", INVESTOR_RULEBOOK="cn", CUSTODIAN_NAME=BANK, SQLALCHEMY_DATABASE_URI="sqlite://")


def test_the_custodian_on_the_campaign_page_and_the_statement(app, client, api, login, make, db, rulebook):
    rulebook("cn", CUSTODIAN_NAME=BANK)
    founder = make.user(name="Founder")
    project = live_equity_project(make, db, currency="CNY", owner=founder)
    assert BANK in text_of(client.get(f"/p/{project.slug}"))
    reward = live_reward_project(make, db)
    assert BANK not in text_of(client.get(f"/p/{reward.slug}"))

    login(founder)
    assert BANK in text_of(client.get(f"/projects/{project.id}/statement"))
    rows = list(csv.reader(io.StringIO(client.get(f"/projects/{project.id}/statement.csv").get_data(as_text=True))))
    assert rows[0][-1] == "custodian" and rows[1][-1] == BANK
    assert api.get(f"/projects/{project.id}/statement", token=api.token_for(founder)).get_json()["custodian"] == BANK

    rulebook("us_reg_cf", CUSTODIAN_NAME=None)
    assert "custodian" not in client.get(f"/projects/{project.id}/statement.csv").get_data(as_text=True)
    assert api.get(f"/projects/{project.id}/statement", token=api.token_for(founder)).get_json()["custodian"] is None


def test_the_monthly_custody_report(app, client, login, make, db, rulebook):
    rulebook("cn", CUSTODIAN_NAME=BANK)
    succeeding = live_equity_project(make, db, currency="CNY", goal=2_000, price_per_share=100)
    failing = live_equity_project(make, db, currency="CNY", goal=10**9, price_per_share=100)
    first, second = investor(make, db, currency="CNY"), investor(make, db, currency="CNY")
    invest(db, succeeding, first, 20)  # CNY 20.00, released when it succeeds
    kept = invest(db, failing, first, 30)  # CNY 30.00, refunded when it fails
    cancelled = invest(db, failing, second, 5)  # CNY 5.00, cancelled
    cancel.cancel_pledge(second, cancelled.id)
    close(db, succeeding)
    close(db, failing)
    assert ledger.verify() == [] and kept.id

    month = utcnow().strftime("%Y-%m")
    login(make.admin())
    page = text_of(client.get(f"/admin/custody-report?month={month}"))
    assert BANK in page and succeeding.title in page
    report = client.get(f"/admin/custody-report?month={month}&format=csv")
    assert report.headers["Content-Type"].startswith("text/csv")
    lines = {int(row["project_id"]): row for row in csv.DictReader(io.StringIO(report.get_data(as_text=True)))}
    assert {k: lines[succeeding.id][k] for k in ("held", "refunded", "released", "closing_balance", "custodian")} == {
        "held": "2000",
        "refunded": "0",
        "released": "2000",
        "closing_balance": "0",
        "custodian": BANK,
    }
    assert {k: lines[failing.id][k] for k in ("held", "refunded", "released", "closing_balance")} == {
        "held": "3500",
        "refunded": "3500",
        "released": "0",
        "closing_balance": "0",
    }

    # Held in one month, still in escrow at its end: the next month opens with it.
    live = live_equity_project(make, db, currency="CNY", goal=10**9, price_per_share=100)
    pledge = invest(db, live, first, 7)
    last_day = utcnow().replace(day=1, hour=12) - timedelta(days=1)
    last_month = last_day.strftime("%Y-%m")
    db.session.execute(update(LedgerTransfer).where(LedgerTransfer.pledge_id == pledge.id).values(created_at=last_day))
    db.session.commit()
    earlier = {
        int(r["project_id"]): r
        for r in csv.DictReader(
            io.StringIO(client.get(f"/admin/custody-report?month={last_month}&format=csv").get_data(as_text=True))
        )
    }
    assert earlier[live.id]["held"] == "700" and earlier[live.id]["closing_balance"] == "700"
    now = {
        int(r["project_id"]): r
        for r in csv.DictReader(
            io.StringIO(client.get(f"/admin/custody-report?month={month}&format=csv").get_data(as_text=True))
        )
    }
    assert now[live.id]["opening_balance"] == "700" and now[live.id]["held"] == "0"

    assert client.get("/admin/custody-report?month=2026-13").status_code == 422


def test_the_custody_report_is_for_admins_only(client, login, make):
    login(make.user())
    assert client.get("/admin/custody-report").status_code == 403


def test_the_key_information_sheet_page_and_pdf(client, make, db, rulebook):
    rulebook("eu_ecsp")
    project = live_equity_project(make, db, currency="EUR", price_per_share=250, min_shares=4)
    show = text_of(client.get(f"/p/{project.slug}"))
    assert f"/p/{project.slug}/key-information" in show and f"/p/{project.slug}/key-information.pdf" in show

    page = text_of(client.get(f"/p/{project.slug}/key-information"))
    assert project.firm.legal_name in page and "€2.50" in page and "4 × €2.50 = €10.00" in page
    assert "You may lose all the money you invest." in page and "no fee to the platform" in page
    assert "for 4 days after making it" in page and "48 hours before the offering closes" in page

    document = client.get(f"/p/{project.slug}/key-information.pdf")
    assert document.headers["Content-Type"] == "application/pdf"
    sheet = pdf_text(document.data)
    assert project.firm.legal_name in sheet and "You may lose all the money you invest." in sheet

    chinese = client.get(f"/p/{project.slug}/key-information.pdf", headers={"Accept-Language": "zh-CN"}).data
    fonts = PdfReader(io.BytesIO(chinese)).pages[0]["/Resources"]["/Font"]
    assert any(font.get_object()["/BaseFont"] == "/STSong-Light" for font in fonts.values())
    assert project.firm.legal_name in pdf_text(chinese)

    reward = live_reward_project(make, db)
    assert client.get(f"/p/{reward.slug}/key-information").status_code == 404


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_lines_wrap_and_pages_break():
    long = "word " * 2000
    chinese = "您可能损失全部投资。" * 200
    body = pdf.render("Title (with) \\ parens", [pdf.Block("text", long), pdf.Block("text", chinese)])
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) > 2 and reader.metadata.title == "Title (with) \\ parens"
    text = pdf_text(body)
    assert text.startswith("Title (with) \\ parens") and text.count("word") == 2000
    assert text.replace("\n", "").count("您可能损失全部投资。") == 200


def test_how_investing_works_lists_the_figures_in_force(client, rulebook):
    rulebook("eu_ecsp")
    page = text_of(client.get("/how-investing-works"))
    assert "every 730 days you pass a short test" in page and "4 right answers out of 5" in page
    assert "10% of it as the most you can bear to lose" in page
    assert "the greater of €1,000.00 and 5% of your net worth" in page
    rulebook("cn", CUSTODIAN_NAME=BANK)
    page = text_of(client.get("/how-investing-works"))
    assert "financial assets of at least CN¥3,000,000.00" in page and "at least CN¥500,000.00" in page
    assert BANK in page and "short test" not in page
    rulebook("us_reg_cf", CUSTODIAN_NAME=None)
    page = text_of(client.get("/how-investing-works"))
    assert "short test" not in page and "qualified investors" not in page and "custodian" not in page


def test_refused_commitments_name_the_check(api, make, db, rulebook):
    rulebook("cn", CUSTODIAN_NAME=BANK)
    project = live_equity_project(make, db, currency="CNY")
    token = api.token_for(investor(make, db, currency="CNY", checks=False))
    body = {"shares": 10, "acknowledge_risks": True, "payment_method": "pm_card_visa"}
    assert error_of(api.post(f"/projects/{project.id}/pledges", body, token=token))["code"] == "qualification_required"
