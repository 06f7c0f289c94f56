"""Where a campaign's money goes: only to the firm's verified payout account, which only an
admin's approval can change while the firm's campaigns are under way."""

import pytest
from sqlalchemy import select

from crowdfund import after_commit
from crowdfund.models import OutboxMessage, SandboxOperation, StateChange
from crowdfund.services import firm_changes, payout_accounts
from crowdfund.workflows import checkout, payout_onboarding, settlement as settlement_service
from tests.api.conftest import Api, error_of
from tests.support.factories import payout_refresh_url, payout_return_url
from tests.support.settlement import assert_ledger_ok, close, reward_campaign, settlement_of


@pytest.fixture()
def api(client):
    return Api(client)


def payouts(db):
    """[(destination, amount)] of every payout the sandbox processor made."""
    return [
        tuple(row)
        for row in db.session.execute(
            select(SandboxOperation.reference, SandboxOperation.amount)
            .where(SandboxOperation.kind == "payout")
            .order_by(SandboxOperation.created_at)
        )
    ]


def test_launch_waits_for_a_verified_payout_account(make, db, api, app, monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX_ACCOUNTS_VERIFY", "manual")
    owner = make.user()
    firm = make.firm(owner=owner, payout=None)
    project = make.approved_project(firm=firm)
    token = api.token_for(owner)

    no_account = api.post(f"/projects/{project.id}/launch", {"deadline": "2099-01-01T00:00:00Z"}, token=token)
    assert no_account.status_code == 409 and error_of(no_account)["code"] == "payout_account_not_ready"
    setup = api.post(f"/firms/{firm.id}/payout-account", token=token)
    assert setup.status_code == 201 and setup.get_json()["status"] == "pending"
    assert "/sandbox/onboard/" in setup.get_json()["onboarding_url"]
    pending = api.post(f"/projects/{project.id}/launch", {"deadline": "2099-01-01T00:00:00Z"}, token=token)
    assert pending.status_code == 409 and error_of(pending)["code"] == "payout_account_not_ready"
    assert api.get(f"/firms/{firm.id}", token=token).get_json()["payout_account"] == {"status": "pending"}

    api.client.post(setup.get_json()["onboarding_url"], data={"outcome": "verified"})

    assert api.get(f"/firms/{firm.id}", token=token).get_json()["payout_account"] == {"status": "verified"}
    db.session.refresh(project)
    assert project.status == "approved"


def test_settlement_waits_for_an_unverified_account_then_pays_it(make, db, sandbox):
    project, _held = reward_campaign(make, db, goal="50", backers=3)
    account = project.firm.payout_account
    ref = account.processor_ref
    # The processor restricts the account while the campaign runs.
    sandbox.finish_onboarding(ref, "restricted")
    payout_onboarding.refresh_ref(ref)

    close(db, project)

    settlement = settlement_of(db, project)
    assert (project.status, settlement.status) == ("successful", "paying_out")
    assert settlement.last_error.startswith("payout_account_not_ready")
    assert payouts(db) == []
    told = db.session.scalars(
        select(OutboxMessage.to_address).where(OutboxMessage.dedupe_key.like(f"payout_waiting:{settlement.id}:%"))
    ).all()
    founder, reviewer = make.founder_of(project), project.reviews[0].reviewer
    assert sorted(told) == sorted([founder.email, reviewer.email])
    assert settlement_service.settle(project.id) == "paying_out"  # a resume: still waiting
    assert (
        len(db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.dedupe_key.like("payout_waiting:%"))).all())
        == 2
    )  # nobody mailed twice

    # The firm finishes onboarding; asking the processor again restarts the payout by itself.
    sandbox.finish_onboarding(ref, "verified")
    payout_onboarding.refresh_ref(ref)
    after_commit.run()  # what the request or job that asked does after its commit

    settlement = settlement_of(db, project)
    assert settlement.status == "completed" and settlement.last_error is None
    assert payouts(db) == [(ref, 3 * 2375)]
    assert_ledger_ok(db)


def test_the_payout_diversion_fails_and_an_approved_change_is_what_moves_it(make, db, api, app, monkeypatch):
    project, _held = reward_campaign(make, db, goal="50", backers=2)
    firm, founder = project.firm, make.founder_of(project)
    original = firm.payout_account.processor_ref
    token = api.token_for(founder)

    # 1. Through the API: the locked details are refused, logged; the rest stays editable.
    locked = api.patch(f"/firms/{firm.id}", {"name": "Diverted Ltd", "address": "1 Elsewhere"}, token=token)
    assert locked.status_code == 409
    assert error_of(locked)["code"] == "firm_locked" and set(error_of(locked)["fields"]) == {"name"}
    refusal = db.session.scalars(select(StateChange).where(StateChange.entity == "firm")).one()
    assert (refusal.to_state, refusal.actor_id, refusal.entity_id) == ("change_refused", founder.id, firm.id)
    assert api.patch(f"/firms/{firm.id}", {"address": "1 Elsewhere"}, token=token).status_code == 200
    # ... and a new account is not opened by asking for payouts again.
    assert api.post(f"/firms/{firm.id}/payout-account", token=token).status_code == 201
    db.session.expire_all()
    assert firm.payout_account.processor_ref == original

    # 2. The founder asks for a new account; it is verified, but no admin has approved it.
    request, _url = payout_onboarding.propose(
        founder, firm.id, {}, return_url=payout_return_url, refresh_url=payout_refresh_url
    )
    new = request.payout_account.processor_ref
    assert request.payout_account.status == "verified" and new != original

    close(db, project)
    assert payouts(db) == [(original, 2 * 2375)]  # the account verified at the last approval

    # 3. An admin approves; the next campaign's money goes to the new account.
    admin = make.admin()
    firm_changes.approve(admin, request.id, reason="Called the founder.")
    db.session.commit()
    second = make.live_project(firm=firm, goal="25")  # the firm's next campaign
    checkout.place_pledge(
        make.user(),
        second,
        idempotency_key="attempt-second-1",
        payment_method="pm_card_visa",
        tier_id=second.tiers[0].id,
    )
    close(db, second)
    assert payouts(db)[-1] == (new, 2375)
    assert payout_accounts.verified_destination(firm.id) == new
    assert_ledger_ok(db)
