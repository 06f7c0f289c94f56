"""cn: only qualified investors invest; they send proof (stored privately), an admin decides."""

from sqlalchemy import select

from crowdfund import ledger
from crowdfund.models import InvestorQualification, OutboxMessage, StateChange
from crowdfund.services import qualifications
from tests.api.conftest import error_of
from tests.conftest import csrf_token
from tests.investors.checks_support import MINIMAL_PDF, upload_proof
from tests.support.builders import investor, live_equity_project
from tests.support.settlement import close


def commit(api, project, token, shares=10):
    body = {"shares": shares, "acknowledge_risks": True, "payment_method": "pm_card_visa"}
    return api.post(f"/projects/{project.id}/pledges", body, token=token)


def test_from_proof_to_commitment_and_settlement(app, api, make, db, rulebook):
    rulebook("cn", CUSTODIAN_NAME="Bank of Example, Shanghai Branch")
    project = live_equity_project(make, db, currency="CNY", goal=1_000, price_per_share=100)
    backer = investor(make, db, currency="CNY", checks=False)
    token = api.token_for(backer)
    refused = commit(api, project, token)
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "qualification_required" and "/me/qualification" in error_of(refused)["message"]

    below = upload_proof(api.client, token, amount=299_999_999)  # CNY 2,999,999.99 of financial assets
    assert below.status_code == 422 and "3,000,000.00" in error_of(below)["fields"]["amount"]
    not_pdf = upload_proof(api.client, token, content=b"just some text", name="bank.pdf")
    assert not_pdf.status_code == 422 and "file" in error_of(not_pdf)["fields"]
    app.config["UPLOAD_MAX_EVIDENCE_BYTES"] = 100
    too_large = upload_proof(api.client, token, content=MINIMAL_PDF + b"0" * 200)
    assert too_large.status_code == 422 and "too large" in error_of(too_large)["fields"]["file"]
    app.config["UPLOAD_MAX_EVIDENCE_BYTES"] = 10 * 1024 * 1024

    sent = upload_proof(api.client, token, basis="annual_income", amount=60_000_000)
    assert sent.status_code == 201 and sent.get_json()["status"] == "pending"
    assert error_of(commit(api, project, token))["code"] == "qualification_pending"
    assert error_of(upload_proof(api.client, token))["code"] == "qualification_pending"

    admin = make.admin()
    qualifications.approve(admin, sent.get_json()["id"], reason="Tax record checked.")
    db.session.commit()
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == backer.email))
    assert "confirmed you as a qualified investor" in mail.body_text
    audit = db.session.scalars(
        select(StateChange).where(StateChange.entity == "qualification").order_by(StateChange.id)
    ).all()
    assert [(row.from_state, row.to_state) for row in audit] == [(None, "pending"), ("pending", "approved")]
    assert audit[-1].actor_id == admin.id

    held = commit(api, project, token)
    assert held.status_code == 201 and held.get_json()["status"] == "held"
    assert close(db, project)
    assert ledger.verify() == []


def test_an_admin_refuses_with_a_reason_on_the_web(client, login, make, db, rulebook):
    rulebook("cn")
    backer = investor(make, db, currency="CNY", checks=False)
    login(backer)
    page = client.get("/me/qualification").get_data(as_text=True)
    assert "Financial assets" in page and "at least CN¥3,000,000.00" in page
    sent = client.post(
        "/me/qualification",
        data={
            "csrf_token": csrf_token(client, "/me/qualification"),
            "basis": "financial_assets",
            "amount": "3,500,000",
            "file": (__import__("io").BytesIO(MINIMAL_PDF), "statement.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    item = db.session.scalar(select(InvestorQualification))
    assert item.amount == 350_000_000 and item.status == "pending"
    # Stored privately: under the instance's private folder, and no public path reaches it.
    assert qualifications.evidence_path(item).read_bytes() == MINIMAL_PDF
    assert "private" in str(qualifications.evidence_path(item))
    assert client.get(f"/admin/qualifications/{item.id}/evidence").status_code == 403

    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    admin = login(make.admin())
    queue = client.get("/admin/qualifications").get_data(as_text=True)
    assert backer.email in queue
    evidence = client.get(f"/admin/qualifications/{item.id}/evidence")
    assert evidence.status_code == 200 and evidence.data == MINIMAL_PDF
    token = csrf_token(client, f"/admin/qualifications/{item.id}")
    no_reason = client.post(f"/admin/qualifications/{item.id}", data={"csrf_token": token, "decision": "refuse"})
    assert no_reason.status_code == 422 and "why the proof is refused" in no_reason.get_data(as_text=True)
    refused = client.post(
        f"/admin/qualifications/{item.id}",
        data={"csrf_token": token, "decision": "refuse", "reason": "The statement is two years old."},
    )
    assert refused.status_code == 302
    db.session.expire_all()
    item = db.session.get(InvestorQualification, item.id)
    assert item.status == "refused" and item.decided_by_id == admin.id
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == backer.email))
    assert "refused" in mail.subject and "The statement is two years old." in mail.body_text


def test_without_the_rulebook_no_proof_is_asked(api, make, db, rulebook):
    rulebook("us_reg_cf")
    project = live_equity_project(make, db)
    token = api.token_for(investor(make, db, checks=False))
    assert commit(api, project, token).status_code == 201
