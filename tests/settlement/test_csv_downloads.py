"""The CSV downloads, fetched over HTTP from a real server: a streamed body is written after
the view returned and its request committed, which the test client does not reproduce."""

import csv
import io

import pytest

from crowdfund.extensions import db
from tests.support import factories
from tests.support.live_server import serving, signed_in
from tests.support.settlement import close, equity_campaign, reward_campaign


@pytest.fixture()
def server(tmp_path):
    with serving(tmp_path, SANDBOX_WEBHOOKS=False) as live:
        yield live


def rows(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_share_register_lists_every_holder(server):
    with server.app.app_context():
        make = factories.Factories(db)
        project, held = equity_campaign(make, db, goal="100", investors=3, shares=12)
        close(db, project)
        assert project.status == "successful"
        project_id, founder = project.id, make.founder_of(project).email
        holders = sorted(pledge.backer.email for pledge in held)
        db.session.remove()

    response = signed_in(server, founder).get(f"{server.url}/projects/{project_id}/register.csv", timeout=30)

    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    table = rows(response)
    assert table[0][:3] == ["holder_name", "holder_email", "shares"]
    assert sorted(row[1] for row in table[1:]) == holders
    assert all(row[2] == "12" and row[4] == "USD" for row in table[1:])


def test_the_statement_and_backers_downloads_are_whole(server):
    with server.app.app_context():
        make = factories.Factories(db)
        project, held = reward_campaign(make, db, goal="50", backers=3)
        project_id, founder = project.id, make.founder_of(project).email
        backers = sorted(pledge.backer.email for pledge in held)
        gross = sum(pledge.amount for pledge in held)
        db.session.remove()
    browser = signed_in(server, founder)

    backers_csv = browser.get(f"{server.url}/projects/{project_id}/backers.csv", timeout=30)
    assert backers_csv.status_code == 200
    assert sorted(row[2] for row in rows(backers_csv)[1:]) == backers

    statement = browser.get(f"{server.url}/projects/{project_id}/statement.csv", timeout=30)
    assert statement.status_code == 200
    header, values = rows(statement)
    assert dict(zip(header, values))["gross"] == str(gross)
