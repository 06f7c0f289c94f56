"""Statements, holdings and the register: who may see them, and what they show."""

from tests.support.settlement import close, equity_campaign, reward_campaign


def test_the_founder_sees_the_statement_to_the_cent(make, db, client, login):
    project, held = reward_campaign(make, db, goal="50", backers=3)
    close(db, project)
    login(make.founder_of(project))
    page = client.get(f"/projects/{project.id}/statement").get_data(as_text=True)
    assert "$75.00" in page and "$3.75" in page and "$71.25" in page
    csv_text = client.get(f"/projects/{project.id}/statement.csv").get_data(as_text=True)
    header, row = (line.split(",") for line in csv_text.splitlines())
    # The columns keep their places; later ones are appended.
    assert row[:11] == f"{project.id},USD,7500,0,0,375,7125,0,0,{3 * (2500 * 290 // 10_000 + 30)},0".split(",")
    values = dict(zip(header, row))
    assert (values["reserved"], values["reserved_until"], values["refunds_owed"]) == ("0", "", "0")
    assert values["payout_due_at"].endswith("Z") and values["processor_fees_paid_by"] == "platform"
    dashboard = client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert "Paid out to the firm" in dashboard and "$71.25" in dashboard


def test_nobody_else_sees_a_statement_or_register(make, db, client, login):
    project, held = equity_campaign(make, db, goal="100", investors=2)
    close(db, project)
    login(held[0].backer)
    for path in (
        f"/projects/{project.id}/statement",
        f"/projects/{project.id}/statement.csv",
        f"/projects/{project.id}/register.csv",
    ):
        assert client.get(path).status_code == 404, path


def test_an_admin_sees_any_statement(make, db, client, login):
    project, held = reward_campaign(make, db, goal="5000", backers=1)
    close(db, project)
    login(make.admin())
    assert client.get(f"/projects/{project.id}/statement").status_code == 200
    page = client.get("/admin/settlements").get_data(as_text=True)
    assert project.title in page and "Completed" in page


def test_investors_see_their_shares_and_the_founder_exports_the_register(make, db, client, login):
    project, held = equity_campaign(make, db, goal="100", investors=2, shares=12)
    close(db, project)
    login(held[0].backer)
    page = client.get("/me/holdings").get_data(as_text=True)
    assert project.firm.legal_name in page and ">12<" in page and "$10.00" in page
    client.post("/account/logout", data={"csrf_token": _token(client)})
    login(make.founder_of(project))
    response = client.get(f"/projects/{project.id}/register.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) == 3 and lines[1].split(",")[2] == "12"


def test_register_cells_cannot_smuggle_spreadsheet_formulas(make, db, client, login):
    from crowdfund.domain.spreadsheets import csv_cell

    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and csv_cell("Ada") == "Ada"


def _token(client):
    from tests.conftest import csrf_token

    return csrf_token(client, "/")
