"""What people see of disputes: the statement (page, CSV, API), the admin page, the sandbox's
page for the card network, the test card, and `ledger verify` noticing a wrong dispute."""

from sqlalchemy import delete, select

from crowdfund import ledger
from crowdfund.models import LedgerTransfer, Pledge
from tests.api.conftest import Api
from tests.disputes.helpers import deliver, dispute_of, pledge_to_dispute, sandbox_dispute
from tests.support.settlement import reward_campaign


def test_the_statement_shows_what_disputes_took_in_the_page_the_csv_and_the_api(app, client, make, login, db):
    project, _held = reward_campaign(make, db, goal="5000", backers=1)
    pledge_to_dispute(make, project)
    deliver(app, db)
    founder = login(make.founder_of(project))
    page = client.get(f"/projects/{project.id}/statement").get_data(as_text=True)
    assert 'data-testid="disputed"' in page and "disputed by backers" in page
    header, row = client.get(f"/projects/{project.id}/statement.csv").get_data(as_text=True).strip().splitlines()
    columns = header.split(",")
    # appended: the CSV's order is a contract (held_for_delivery came after these)
    assert columns[columns.index("disputed") :][:3] == ["disputed", "processor_fees_paid_by", "held_for_delivery"]
    assert columns[:9] == [
        "project_id",
        "currency",
        "gross",
        "cancelled",
        "refunded",
        "fee",
        "paid_out",
        "awaiting_payout",
        "in_escrow",
    ]
    assert dict(zip(columns, row.split(",")))["disputed"] == "2500"
    api = Api(client)
    statement = api.get(f"/projects/{project.id}/statement", token=api.token_for(founder)).get_json()
    assert (statement["disputed"], statement["in_escrow"], statement["gross"]) == (2500, 2500, 5000)


def test_the_admin_page_lists_each_dispute_with_its_deadline_and_evidence_link(app, client, make, login, db):
    project, _held = reward_campaign(make, db, goal="5000", backers=1)
    pledge = pledge_to_dispute(make, project)
    deliver(app, db)
    dispute = dispute_of(db, pledge)
    login(make.user(email="nosy@example.com"))
    assert client.get("/admin/disputes").status_code == 403
    client.post("/account/logout")
    login(make.admin(email="root@example.com"))
    page = client.get("/admin/disputes").get_data(as_text=True)
    assert f'href="/sandbox/disputes/{dispute.processor_ref}"' in page and "fraudulent" in page
    assert f"#{pledge.id}" in page and project.title in page and "Needs a response" in page
    assert "1 dispute open" in page and 'href="/admin/disputes"' in page
    chinese = client.get("/admin/disputes", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "1 起争议待处理" in chinese and "待回应" in chinese


def test_the_sandbox_page_stands_in_for_the_card_network(app, client, make, db):
    project, _held = reward_campaign(make, db, goal="5000", backers=1)
    pledge = pledge_to_dispute(make, project)
    ref = sandbox_dispute(db, pledge).id
    page = client.get(f"/sandbox/disputes/{ref}").get_data(as_text=True)
    assert 'value="won"' in page and 'value="lost"' in page and 'value="under_review"' in page
    assert client.post(f"/sandbox/disputes/{ref}", data={"outcome": "maybe"}).status_code == 400
    assert client.get("/sandbox/disputes/dp_sbx_none").status_code == 404
    assert client.get(f"/sandbox/disputes/{pledge.charge_ref}").status_code == 404  # a charge, not a dispute
    client.post(f"/sandbox/disputes/{ref}", data={"outcome": "lost"})
    client.post(f"/sandbox/disputes/{ref}", data={"outcome": "won"})  # too late: it is decided
    assert sandbox_dispute(db, pledge).status == "lost"
    assert "This dispute is closed." in client.get(f"/sandbox/disputes/{ref}").get_data(as_text=True)


def test_the_backing_form_offers_the_card_that_will_be_disputed(client, make, login, db):
    project, _held = reward_campaign(make, db, goal="5000", backers=1)
    login(make.user(email="backer-form@example.com"))
    page = client.get(f"/p/{project.slug}/back").get_data(as_text=True)
    assert 'value="pm_card_createDispute"' in page and "then the backer disputes it" in page


def test_verify_notices_a_disputed_pledge_whose_money_is_nowhere(app, make, db):
    project, _held = reward_campaign(make, db, goal="5000", backers=1)
    pledge = pledge_to_dispute(make, project)
    deliver(app, db)
    assert ledger.verify() == []
    db.session.execute(
        delete(LedgerTransfer).where(LedgerTransfer.pledge_id == pledge.id, LedgerTransfer.code == "dispute_escrow")
    )
    db.session.flush()
    problems = ledger.verify()
    assert any(f"Pledge {pledge.id} (disputed, 2500) is disputed, but its dispute took 0" in p for p in problems)
    assert any("escrow" in p and "holds 5000" in p for p in problems)
    db.session.rollback()
    # A dispute leg between the wrong accounts is named too.
    transfer = db.session.scalar(
        select(LedgerTransfer).where(LedgerTransfer.pledge_id == pledge.id, LedgerTransfer.code == "dispute_escrow")
    )
    transfer.code = "dispute_net"
    db.session.flush()
    assert any(
        f"({'dispute_net'}) of pledge {pledge.id} runs from escrow:project:{project.id}" in p for p in ledger.verify()
    )
    db.session.rollback()
    assert db.session.get(Pledge, pledge.id).status == "disputed"
