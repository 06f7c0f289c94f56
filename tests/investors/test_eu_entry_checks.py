"""eu_ecsp: the entry knowledge test and loss simulation before investing (and every two years),
and the warning to acknowledge above EUR 1,000 or 5% of net worth in one project."""

from datetime import timedelta

from sqlalchemy import select, update

from crowdfund import ledger
from crowdfund.models import InvestorAssessment, Pledge, utcnow
from tests.api.conftest import error_of
from tests.conftest import csrf_token
from tests.investors.checks_support import RIGHT_ANSWERS, complete_checks
from tests.support.builders import charges, investor, live_equity_project


def commit(api, project, token, shares, **extra):
    body = {"shares": shares, "acknowledge_risks": True, "payment_method": "pm_card_visa", **extra}
    return api.post(f"/projects/{project.id}/pledges", body, token=token)


def test_the_test_and_the_simulation_come_before_the_first_investment(api, make, db, rulebook):
    rulebook("eu_ecsp")
    project = live_equity_project(make, db, currency="EUR")
    backer = investor(make, db, currency="EUR", checks=False)
    token = api.token_for(backer)

    refused = commit(api, project, token, 10)
    assert refused.status_code == 409
    error = error_of(refused)
    assert error["code"] == "knowledge_test_required" and "/me/investor-checks" in error["message"]

    checks = api.get("/me/investor-checks", token=token).get_json()
    assert checks["entry_checks_required"] and len(checks["questions"]) == 5 and checks["pass_mark"] == 4
    failed = api.post("/me/knowledge-test", {"answers": {**RIGHT_ANSWERS, "q1": "a", "q2": "a"}}, token=token)
    assert failed.get_json()["passed"] is False and failed.get_json()["score"] == 3
    assert error_of(commit(api, project, token, 10))["code"] == "knowledge_test_required"
    missing = api.post("/me/knowledge-test", {"answers": {"q1": "b"}}, token=token)
    assert missing.status_code == 422 and "answers.q2" in error_of(missing)["fields"]

    assert api.post("/me/knowledge-test", {"answers": RIGHT_ANSWERS}, token=token).get_json()["passed"] is True
    assert error_of(commit(api, project, token, 10))["code"] == "loss_simulation_required"

    unacknowledged = api.post("/me/loss-simulation", {"net_worth": 8_000_000, "currency": "EUR"}, token=token)
    assert unacknowledged.status_code == 422
    assert "acknowledge" in error_of(unacknowledged)["fields"] and "€8,000.00" in error_of(unacknowledged)["message"]
    simulated = api.post(
        "/me/loss-simulation", {"net_worth": 8_000_000, "currency": "EUR", "acknowledge": True}, token=token
    ).get_json()
    assert simulated["loss_capacity"] == 800_000  # 10% of net worth

    assert charges(db) == 0
    placed = commit(api, project, token, 10)
    assert placed.status_code == 201 and placed.get_json()["status"] == "held"
    assert ledger.verify() == []


def test_the_checks_are_asked_again_after_two_years(api, make, db, rulebook):
    rulebook("eu_ecsp")
    project = live_equity_project(make, db, currency="EUR")
    backer = investor(make, db, currency="EUR")
    token = api.token_for(backer)
    db.session.execute(
        update(InvestorAssessment)
        .where(InvestorAssessment.user_id == backer.id)
        .values(created_at=utcnow() - timedelta(days=731))
    )
    db.session.commit()
    assert error_of(commit(api, project, token, 10))["code"] == "knowledge_test_required"
    complete_checks(api, db, make, token, "eu_ecsp")
    assert commit(api, project, token, 10).status_code == 201


def test_sophisticated_investors_and_other_rulebooks_are_not_asked(api, make, db, rulebook):
    rulebook("eu_ecsp")
    project = live_equity_project(make, db, currency="EUR")
    sophisticated = investor(make, db, currency="EUR", accredited=True, checks=False)
    assert commit(api, project, api.token_for(sophisticated), 10).status_code == 201
    rulebook("us_reg_cf")
    plain = investor(make, db, currency="EUR", checks=False)
    assert commit(api, project, api.token_for(plain), 10).status_code == 201


def test_the_web_test_and_simulation(client, login, make, db, rulebook):
    rulebook("eu_ecsp")
    project = live_equity_project(make, db, currency="EUR")
    login(investor(make, db, currency="EUR", checks=False))
    back = client.get(f"/p/{project.slug}/back")
    assert back.status_code == 200

    page = client.get("/me/investor-checks").get_data(as_text=True)
    assert "If the firm you invest in fails" in page and "Test: not passed yet." in page
    token = csrf_token(client, "/me/investor-checks")
    answers = {f"test-{key}": value for key, value in RIGHT_ANSWERS.items()}
    passed = client.post("/me/investor-checks", data={"csrf_token": token, "test-submit": "1", **answers})
    assert passed.status_code == 302
    assert "Test passed on" in client.get("/me/investor-checks").get_data(as_text=True)

    shown = client.post(
        "/me/investor-checks",
        data={"csrf_token": token, "sim-submit": "1", "sim-currency": "EUR", "sim-net_worth": "50,000"},
    )
    assert shown.status_code == 200
    assert "You can bear to lose €5,000.00." in shown.get_data(as_text=True)
    recorded = client.post(
        "/me/investor-checks",
        data={
            "csrf_token": token,
            "sim-submit": "1",
            "sim-currency": "EUR",
            "sim-net_worth": "50000",
            "sim-acknowledge": "y",
        },
    )
    assert recorded.status_code == 302
    assert "Loss simulation recorded on" in client.get("/me/investor-checks").get_data(as_text=True)

    chinese = client.get("/me/investor-checks", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "如果你投资的公司倒闭，你投入的钱会怎样？" in chinese and "测试于" in chinese


def test_above_the_mark_the_warning_must_be_acknowledged_for_that_commitment(api, make, db, rulebook):
    rulebook("eu_ecsp")
    # Net worth EUR 10,000: 5% is EUR 500, so the mark is EUR 1,000 (the greater).
    project = live_equity_project(make, db, currency="EUR", price_per_share=100)
    token = api.token_for(investor(make, db, currency="EUR", net_worth=1_000_000, income=5_000_000))
    assert commit(api, project, token, 1_000).status_code == 201  # EUR 1,000: not above
    refused = commit(api, project, token, 1)  # the project's total goes above EUR 1,000
    assert refused.status_code == 422
    error = error_of(refused)
    assert error["code"] == "large_investment_not_acknowledged"
    assert "acknowledge_large_investment" in error["fields"] and "€1,000.00" in error["message"]
    placed = commit(api, project, token, 1, acknowledge_large_investment=True)
    assert placed.status_code == 201 and placed.get_json()["large_investment_acknowledged_at"] is not None
    assert ledger.verify() == []


def test_the_mark_follows_net_worth_and_converts_currencies(api, make, db, rulebook):
    rulebook("eu_ecsp")
    # Net worth EUR 100,000: 5% is EUR 5,000, above EUR 1,000. The offering is in USD: EUR 5,000
    # is USD 5,289.88 at the reference rate of 0.9452 EUR per USD.
    project = live_equity_project(make, db, currency="USD", price_per_share=100, shares_offered=100_000)
    token = api.token_for(investor(make, db, currency="EUR", net_worth=10_000_000, income=10_000_000))
    assert commit(api, project, token, 5_289).status_code == 201
    refused = commit(api, project, token, 1)
    assert error_of(refused)["code"] == "large_investment_not_acknowledged"
    assert "$5,289.88" in error_of(refused)["message"]


def test_the_web_form_carries_the_checkbox(client, login, make, db, rulebook):
    rulebook("eu_ecsp")
    project = live_equity_project(make, db, currency="EUR", price_per_share=100)
    login(investor(make, db, currency="EUR", net_worth=1_000_000))
    page = client.get(f"/p/{project.slug}/back")
    text = page.get_data(as_text=True)
    assert 'name="acknowledge_large_investment"' in text and "above €1,000.00" in text
    from tests.investors.test_acknowledgement import form_data

    refused = client.post(f"/p/{project.slug}/back", data=form_data(page, shares="1001", acknowledge_risks="y"))
    assert refused.status_code == 422 and "Warning: with this commitment" in refused.get_data(as_text=True)
    placed = client.post(
        f"/p/{project.slug}/back",
        data=form_data(refused, shares="1001", acknowledge_risks="y", acknowledge_large_investment="y"),
    )
    assert placed.status_code == 302
    assert db.session.scalar(select(Pledge.large_investment_acknowledged_at)) is not None


def test_the_openapi_document_names_the_field(api):
    document = api.get("/openapi.json").get_json()
    create = document["paths"]["/projects/{project_id}/pledges"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["acknowledge_large_investment"]["type"] == "boolean"
    assert "large_investment_not_acknowledged" in schema["properties"]["acknowledge_large_investment"]["description"]
    assert {"/me/investor-checks", "/me/knowledge-test", "/me/loss-simulation"} <= set(document["paths"])
