"""Release on delivery on the web: the editor's choice, the campaign page, the founder's shipping
page (a form and a CSV upload), the backer's receipt (confirm, report), the admin's queue, the
statement (page and CSV), the dashboard's per-tier progress and the firm's public record."""

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from crowdfund.models import PledgeDelivery, Project
from crowdfund.services.campaigns import close_due
from crowdfund.workflows import settlement
from tests.conftest import csrf_token
from tests.delivery.conftest import assert_books_ok, assert_identity, mail_to, on_delivery_campaign, statement_of

HELD = 1188


def settle(db, project):
    close_due(now=project.deadline + timedelta(seconds=1))
    db.session.commit()
    db.session.info.clear()
    settlement.settle(project.id)
    db.session.expire_all()


def status_of(db, pledge):
    db.session.expire_all()
    return db.session.scalar(select(PledgeDelivery.status).where(PledgeDelivery.pledge_id == pledge.id))


def test_the_editor_offers_the_release_model_and_the_pages_show_it(client, db, make, login):
    project = make.project(release_model="on_delivery")
    login(make.founder_of(project))
    page = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert 'name="release_model"' in page and '<option selected value="on_delivery">' in page
    token = csrf_token(client, f"/projects/{project.id}/edit")
    data = {
        "csrf_token": token,
        "title": project.title,
        "summary": project.summary,
        "category": project.category,
        "currency": project.currency,
        "goal": "5000",
        "funding_model": "all_or_nothing",
        "release_model": "at_success",
        "description": project.description,
        "risks": project.risks,
        "use_of_funds": project.use_of_funds,
    }
    assert client.post(f"/projects/{project.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Project, project.id).release_model == "at_success"

    live, _ = on_delivery_campaign(make, backers=0)
    shown = client.get(f"/p/{live.slug}").get_data(as_text=True)
    assert "Released on delivery" in shown and "50%" in shown


def test_founder_ships_backer_confirms_or_reports_admin_decides(client, db, make, login):
    project, pledges = on_delivery_campaign(make, backers=3)
    founder = make.founder_of(project)
    admin = make.admin()
    settle(db, project)
    ids = [p.id for p in pledges]

    login(founder)
    page = client.get(f"/projects/{project.id}/shipments")
    assert page.status_code == 200 and "Backer 0" in page.get_data(as_text=True)
    token = csrf_token(client, f"/projects/{project.id}/shipments")
    refused = client.post(
        f"/projects/{project.id}/shipments", data={"csrf_token": token, "carrier": "DHL", "tracking": "JD9"}
    )
    assert refused.status_code == 422 and "Choose at least one pledge" in refused.get_data(as_text=True)
    done = client.post(
        f"/projects/{project.id}/shipments",
        data={"csrf_token": token, "pledge_ids": [str(ids[0])], "carrier": "DHL", "tracking": "JD9"},
    )
    assert done.status_code == 302
    assert status_of(db, pledges[0]) == "shipped" and mail_to(db, pledges[0].backer, "JD9")

    upload = io.StringIO()
    writer = csv.writer(upload)
    writer.writerows([["pledge_id", "carrier", "tracking"], [ids[1], "UPS", "1Z1"], [ids[2], "UPS", "1Z2"]])
    bad = client.post(
        f"/projects/{project.id}/shipments.csv",
        data={"csrf_token": token, "file": (io.BytesIO(b"pledge_id,carrier,tracking\nx,UPS,1\n"), "s.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "Line 2" in bad.get_data(as_text=True)
    assert status_of(db, pledges[1]) == "awaiting_shipment"
    good = client.post(
        f"/projects/{project.id}/shipments.csv",
        data={"csrf_token": token, "file": (io.BytesIO(upload.getvalue().encode()), "s.csv")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    assert status_of(db, pledges[1]) == status_of(db, pledges[2]) == "shipped"
    dashboard = client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert 'data-testid="delivery-progress"' in dashboard
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})

    # Backer 0 confirms on the receipt.
    login(pledges[0].backer)
    receipt = client.get(f"/pledges/{ids[0]}").get_data(as_text=True)
    assert "JD9" in receipt and "I received my reward" in receipt
    token = csrf_token(client, f"/pledges/{ids[0]}")
    assert client.post(f"/pledges/{ids[0]}/confirm-receipt", data={"csrf_token": token}).status_code == 302
    assert status_of(db, pledges[0]) == "released"
    assert "Delivered" in client.get(f"/pledges/{ids[0]}").get_data(as_text=True)
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})

    # Backer 1 reports a problem; an empty report is refused on the form.
    login(pledges[1].backer)
    token = csrf_token(client, f"/pledges/{ids[1]}")
    empty = client.post(f"/pledges/{ids[1]}/report-problem", data={"csrf_token": token, "reason": ""})
    assert empty.status_code == 422 and status_of(db, pledges[1]) == "shipped"
    reported = client.post(f"/pledges/{ids[1]}/report-problem", data={"csrf_token": token, "reason": "Cracked lid"})
    assert reported.status_code == 302 and status_of(db, pledges[1]) == "problem"
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})

    # The admin refunds it from the deliveries page.
    login(admin)
    queue = client.get("/admin/deliveries").get_data(as_text=True)
    assert "Cracked lid" in queue
    token = csrf_token(client, "/admin/deliveries")
    assert client.post(f"/admin/deliveries/pledges/{ids[1]}/refund", data={"csrf_token": token}).status_code == 302
    assert status_of(db, pledges[1]) == "refunded"

    statement = client.get(f"/projects/{project.id}/statement").get_data(as_text=True)
    assert "Held until rewards are delivered" in statement
    data = statement_of(db, project)
    assert data["held_for_delivery"] == HELD and data["refunded"] == HELD
    assert_identity(data)
    lines = list(csv.reader(io.StringIO(client.get(f"/projects/{project.id}/statement.csv").get_data(as_text=True))))
    assert lines[0][lines[0].index("processor_fees_paid_by") + 1] == "held_for_delivery"  # appended
    assert lines[1][lines[0].index("held_for_delivery")] == str(HELD)
    assert_books_ok(db)

    profile = client.get(f"/firms/{project.firm_id}").get_data(as_text=True)
    assert 'data-testid="delivery-record"' in profile


def test_bad_input_on_the_shipping_and_problem_forms_changes_nothing(client, db, make, login):
    project, pledges = on_delivery_campaign(make, backers=2)
    settle(db, project)
    login(make.founder_of(project))
    token = csrf_token(client, f"/projects/{project.id}/shipments")
    for pledge_ids, carrier, tracking in (
        (["²"], "DHL", "1"),
        (["99999999999999999999999"], "DHL", "1"),
        ([str(pledges[0].id)], "D\x00HL", "1"),
        ([str(pledges[0].id)], "DHL", "x" * 101),
    ):
        answer = client.post(
            f"/projects/{project.id}/shipments",
            data={"csrf_token": token, "pledge_ids": pledge_ids, "carrier": carrier, "tracking": tracking},
        )
        assert answer.status_code == 422, (pledge_ids, carrier, answer.status_code)
    for content in (b"\xff\xfe", b"pledge_id,carrier,tracking\n\xd9\xa3,UPS,1\n", b"a,b,c\n1,UPS,1\n"):
        answer = client.post(
            f"/projects/{project.id}/shipments.csv",
            data={"csrf_token": token, "file": (io.BytesIO(content), "s.csv")},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 422, content
    assert status_of(db, pledges[0]) == status_of(db, pledges[1]) == "awaiting_shipment"
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})

    login(pledges[0].backer)
    token = csrf_token(client, f"/pledges/{pledges[0].id}")
    answer = client.post(f"/pledges/{pledges[0].id}/report-problem", data={"csrf_token": token, "reason": "a\x00b"})
    assert answer.status_code == 422 and status_of(db, pledges[0]) == "awaiting_shipment"
    assert client.post(f"/pledges/{pledges[1].id}/confirm-receipt", data={"csrf_token": token}).status_code == 404
    assert_books_ok(db)
