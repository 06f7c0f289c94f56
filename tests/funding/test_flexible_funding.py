"""Flexible funding: a reward campaign whose firm keeps what it raised below the goal."""

from sqlalchemy import select

from crowdfund import ledger
from crowdfund.models import OutboxMessage
from crowdfund.services import statements
from crowdfund.workflows import checkout
from tests.api.conftest import error_of
from tests.support.settlement import assert_ledger_ok, close, operations, settlement_of, statuses


def _back(make, project, n):
    tier = project.tiers[0]
    return [
        checkout.place_pledge(
            make.user(name=f"Backer {i}"),
            project,
            idempotency_key=f"flex-{project.id}-{i}",
            payment_method="pm_card_visa",
            tier_id=tier.id,
            quantity=1,
        )
        for i in range(n)
    ]


def _mail(db, prefix):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like(prefix + "%"))).all()


def test_flexible_campaign_below_its_goal_pays_the_firm_and_tells_backers(make, db):
    project = make.live_project(goal="500", funding_model="flexible")
    held = _back(make, project, 2)  # 2 x 25.00 of a 500.00 goal
    assert all(p.status == "held" for p in held)
    receipt = _mail(db, f"pledge_receipt:{held[0].id}")[0]
    assert "flexible funding" in receipt.body_text

    assert close(db, project) == 1
    assert project.status == "successful"
    assert statuses(db, project) == {"released": 2}
    settlement = settlement_of(db, project)
    assert settlement.outcome == "release" and settlement.status == "completed"
    assert settlement.payout_amount == 2 * 2375  # 5% platform fee per pledge
    assert operations(db, "payout") == 1 and operations(db, "refund") == 0
    assert ledger.balance(ledger.escrow_key(project.id)) == 0
    assert_ledger_ok(db)

    told = _mail(db, f"campaign_succeeded:{project.id}:")
    assert len(told) == 2
    assert "has ended: the money raised goes to the firm" in told[0].subject
    assert "flexible funding" in told[0].body_text and "goal was not met" in told[0].body_text
    assert not _mail(db, "campaign_refunded:")
    data = statements.statement(project)
    assert data["paid_out"] == 2 * 2375 and data["goal_met"] is False and data["funding_model"] == "flexible"


def test_all_or_nothing_below_its_goal_still_refunds(make, db):
    project = make.live_project(goal="500")
    _back(make, project, 2)
    close(db, project)
    assert project.status == "failed"
    assert statuses(db, project) == {"refunded": 2}
    assert operations(db, "payout") == 0
    assert_ledger_ok(db)


def test_flexible_campaign_with_nothing_raised_fails(make, db):
    project = make.live_project(goal="500", funding_model="flexible")
    close(db, project)
    assert project.status == "failed"
    assert settlement_of(db, project).outcome == "refund"


def test_flexible_campaign_that_meets_its_goal_reads_as_usual(make, db):
    project = make.live_project(goal="50", funding_model="flexible")
    _back(make, project, 2)
    close(db, project)
    told = _mail(db, f"campaign_succeeded:{project.id}:")
    assert told and all("reached its goal" in m.subject for m in told)


def test_api_chooses_the_funding_model_and_refuses_it_for_equity(make, db, api):
    founder = make.user()
    firm = make.firm(owner=founder)
    token = api.token_for(founder)
    base = {
        "firm_id": firm.id,
        "title": "Tea for everyone",
        "summary": "Good tea.",
        "category": "food",
        "currency": "CNY",
        "goal": 100000,
    }
    made = api.post("/projects", {**base, "kind": "reward", "funding_model": "flexible"}, token=token)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["funding_model"] == "flexible"
    default = api.post("/projects", {**base, "kind": "reward", "title": "Tea two"}, token=token)
    assert default.get_json()["funding_model"] == "all_or_nothing"

    refused = api.post(
        "/projects", {**base, "kind": "equity", "title": "Shares", "funding_model": "flexible"}, token=token
    )
    assert refused.status_code == 422
    assert "funding_model" in error_of(refused)["fields"]

    changed = api.patch(f"/projects/{default.get_json()['id']}", {"funding_model": "flexible"}, token=token)
    assert changed.status_code == 200 and changed.get_json()["funding_model"] == "flexible"
    wrong = api.patch(f"/projects/{default.get_json()['id']}", {"funding_model": "maybe"}, token=token)
    assert wrong.status_code == 422


def test_the_page_and_the_backing_page_tell_backers_before_they_pay(make, db, client, login):
    project = make.live_project(goal="500", funding_model="flexible")
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Flexible funding" in page
    assert "only reaches the firm if the goal is met" not in page
    backer = make.user()
    login(backer)
    back = client.get(f"/p/{project.slug}/back?tier={project.tiers[0].id}").get_data(as_text=True)
    assert "even if the goal is not met" in back


def test_statement_of_a_flexible_campaign_says_the_goal_was_not_met(make, db, client, login):
    project = make.live_project(goal="500", funding_model="flexible")
    _back(make, project, 1)
    close(db, project)
    login(project.firm.members[0].user)
    page = client.get(f"/projects/{project.id}/statement").get_data(as_text=True)
    assert "flexible funding" in page.lower()


def test_the_admin_review_and_the_editor_show_the_funding_model(make, db, client, login):
    project = make.submitted_project(funding_model="flexible")
    login(make.admin())
    review = client.get(f"/admin/reviews/{project.id}").get_data(as_text=True)
    assert "Funding model" in review and "Flexible funding" in review
    client.post("/account/logout")
    equity = make.equity_project()
    login(make.founder_of(equity))
    editor = client.get(f"/projects/{equity.id}/edit").get_data(as_text=True)
    assert 'name="funding_model"' in editor


def test_a_flexible_campaign_paid_below_its_goal_reads_as_funded(make, db, client):
    project = make.live_project(goal="500", funding_model="flexible")
    _back(make, project, 1)
    close(db, project)
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Funded (flexible)" in page and "used flexible funding" in page
