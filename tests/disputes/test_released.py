"""A dispute after the campaign succeeded: from the firm's payable and the platform's fee
before the payout, by a transfer reversal from the firm's connected account after it."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowdfund import ledger
from crowdfund.domain.fees import split_fee
from crowdfund.models import LedgerTransfer, Pledge, SandboxOperation, utcnow
from crowdfund.workflows import settlement
from tests.conftest import csrf_token
from tests.disputes.helpers import (
    books_agree,
    decide,
    deliver,
    dispute_of,
    identity_holds,
    pledge_to_dispute,
    reconcile,
)
from tests.support.settlement import close, reward_campaign, settlement_of


@pytest.fixture()
def late_disputes(app, monkeypatch):
    """The sandbox's disputes come an hour after their charge: after the campaign settled."""
    monkeypatch.setitem(app.config, "SANDBOX_DISPUTE_DELAY", 3600)


def paid_out_with_a_dispute_to_come(make, db):
    project, held = reward_campaign(make, db, goal="50", backers=2)
    pledge = pledge_to_dispute(make, project)
    close(db, project)
    assert settlement_of(db, project).status == "completed" and settlement_of(db, project).payout_ref
    assert db.session.get(Pledge, pledge.id).status == "released"
    return project, pledge


def legs(db, pledge):
    return dict(
        db.session.execute(
            select(LedgerTransfer.code, LedgerTransfer.amount).where(LedgerTransfer.pledge_id == pledge.id)
        ).all()
    )


def reversals(db):
    return db.session.scalars(select(SandboxOperation.amount).where(SandboxOperation.kind == "reversal")).all()


def test_after_the_payout_the_money_is_taken_back_from_the_firms_account(app, client, make, db, late_disputes):
    project, pledge = paid_out_with_a_dispute_to_come(make, db)
    code, output = reconcile(app)  # the processor has withdrawn it; its webhook has not come yet
    assert code == 1 and "which our books do not know" in output
    deliver(app, db, seconds=7200)
    net, fee = split_fee(2_500, app.config["PLATFORM_FEE_BPS"])
    dispute = dispute_of(db, pledge)
    assert (dispute.pledge_status_before, db.session.get(Pledge, pledge.id).status) == ("released", "disputed")
    moved = legs(db, pledge)
    assert (moved["dispute_net"], moved["dispute_release_fee"], moved["dispute_fee"]) == (net, fee, 1500)
    assert moved["payout_reversal"] == net and reversals(db) == [net] and dispute.reversal_ref.startswith("trr_")
    payable = ledger.firm_payable_key(project.firm_id, "USD")
    assert ledger.balance(payable) == 0  # taken back: the firm owes nothing
    books_agree(app, db)
    data = identity_holds(project)
    assert (data["disputed"], data["awaiting_payout"]) == (2_500, 0)
    assert data["paid_out"] == 3 * net - net and data["fee"] == 3 * fee - fee

    decide(client, dispute.processor_ref, "won")  # the firm is paid again
    deliver(app, db)
    dispute = dispute_of(db, pledge)
    assert dispute.status == "won" and dispute.repay_ref and db.session.get(Pledge, pledge.id).status == "released"
    assert legs(db, pledge)["dispute_repay"] == net and ledger.balance(payable) == 0
    books_agree(app, db)
    data = identity_holds(project)
    assert (data["disputed"], data["paid_out"], data["fee"], data["awaiting_payout"]) == (0, 3 * net, 3 * fee, 0)


def test_a_reversal_that_fails_leaves_the_firm_owing_it_until_an_admin_looks_again(
    app, client, make, db, login, sandbox, late_disputes
):
    project, pledge = paid_out_with_a_dispute_to_come(make, db)
    sandbox.faults.configure(fail_next=1, kinds={"reversal"})
    deliver(app, db, seconds=7200)
    dispute = dispute_of(db, pledge)
    net, _fee = split_fee(2_500, app.config["PLATFORM_FEE_BPS"])
    assert dispute.reversal_ref is None and "timed out" in dispute.reversal_error
    assert ledger.balance(ledger.firm_payable_key(project.firm_id, "USD")) == -net  # the firm owes it
    books_agree(app, db)
    assert identity_holds(project)["awaiting_payout"] == -net

    login(make.admin(email="disputes-admin@example.com"))
    page = client.get("/admin/disputes").get_data(as_text=True)
    assert dispute.processor_ref in page and "timed out" in page and "owes" in page
    response = client.post(
        f"/admin/disputes/{dispute.id}/refresh", data={"csrf_token": csrf_token(client, "/admin/disputes")}
    )
    assert response.status_code == 302
    dispute = dispute_of(db, pledge)
    assert dispute.reversal_ref and dispute.reversal_error is None and reversals(db) == [net]
    assert ledger.balance(ledger.firm_payable_key(project.firm_id, "USD")) == 0
    books_agree(app, db)
    assert "No firm owes or is owed money after a dispute." in client.get("/admin/disputes").get_data(as_text=True)


def test_before_the_payout_it_comes_out_of_what_the_firm_is_owed(app, client, make, db, monkeypatch, late_disputes):
    monkeypatch.setitem(app.config, "PAYOUT_DELAY", 3600)
    project, held = reward_campaign(make, db, goal="50", backers=2)
    pledge = pledge_to_dispute(make, project)
    close(db, project)
    assert settlement_of(db, project).payout_ref is None  # waits an hour
    deliver(app, db, seconds=7200)
    net, fee = split_fee(2_500, app.config["PLATFORM_FEE_BPS"])
    assert ledger.balance(ledger.firm_payable_key(project.firm_id, "USD")) == 2 * net
    assert dispute_of(db, pledge).reversal_ref is None and reversals(db) == []
    books_agree(app, db)
    data = identity_holds(project)
    assert (data["disputed"], data["awaiting_payout"], data["paid_out"]) == (2_500, 2 * net, 0)
    settlement.settle(project.id, now=utcnow() + timedelta(hours=2))  # the payout is due
    db.session.rollback()
    assert ledger.balance(ledger.firm_payable_key(project.firm_id, "USD")) == 0
    books_agree(app, db)
    data = identity_holds(project)
    assert (data["disputed"], data["awaiting_payout"], data["paid_out"]) == (2_500, 0, 2 * net)


def test_when_the_firm_bore_the_processors_fee_the_platform_bears_it_on_a_disputed_charge(
    app, client, make, db, monkeypatch, late_disputes
):
    monkeypatch.setitem(app.config, "PROCESSOR_FEES_PAID_BY", "firm")
    project, pledge = paid_out_with_a_dispute_to_come(make, db)
    deliver(app, db, seconds=7200)
    moved = legs(db, pledge)
    card_fee = 2_500 * 290 // 10_000 + 30
    assert moved["dispute_release_pfee"] == moved["release_processor_fee"] == card_fee
    assert moved["dispute_net"] + moved["dispute_release_fee"] + card_fee == 2_500
    assert moved["payout_reversal"] == moved["dispute_net"]
    books_agree(app, db)
    data = identity_holds(project)
    assert data["disputed"] == 2_500 and data["processor_fees_firm"] == 2 * card_fee
    decide(client, dispute_of(db, pledge).processor_ref, "lost")
    deliver(app, db)
    books_agree(app, db)
    assert identity_holds(project)["disputed"] == 2_500
