"""The sandbox's connected accounts and its onboarding page, as Stripe Connect's would behave."""

import json

import pytest
from sqlalchemy import func, select

from crowdfund.models import PayoutAccount, SandboxAccount, StateChange, WebhookEvent
from crowdfund.payments import GatewayError


@pytest.fixture()
def manual(app, monkeypatch):
    """Onboarding that someone must finish on the sandbox's page (not verified at once)."""
    monkeypatch.setitem(app.config, "SANDBOX_ACCOUNTS_VERIFY", "manual")


def signed_event(sandbox, event_id, ref, **claims):
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "account.updated",
            "data": {"object": {"id": ref, "object": "account", **claims}},
        }
    ).encode()
    return body, {"Sandbox-Signature": sandbox.sign(body), "Content-Type": "application/json"}


def test_an_account_opens_once_per_key_and_pending_in_manual_mode(sandbox, db, manual):
    ref = sandbox.create_account(
        firm_id=1, country="GB", email="f@example.com", idempotency_key="firm-1-payout-account-1"
    )
    again = sandbox.create_account(
        firm_id=1, country="GB", email="f@example.com", idempotency_key="firm-1-payout-account-1"
    )
    assert ref == again and ref.startswith("acct_sbx_")
    assert sandbox.account_status(ref) == "pending"
    assert db.session.scalar(select(func.count()).select_from(SandboxAccount)) == 1
    with pytest.raises(GatewayError) as refused:
        sandbox.create_account(
            firm_id=1, country="FR", email="f@example.com", idempotency_key="firm-1-payout-account-1"
        )
    assert refused.value.code == "idempotency_conflict"
    with pytest.raises(GatewayError) as missing:
        sandbox.account_status("acct_sbx_nobody")
    assert missing.value.code == "resource_missing"


def test_instant_mode_opens_accounts_verified(sandbox, make, db):
    firm = make.firm()  # the factories' default: instant, as `make run`
    account = firm.payout_account
    assert account.status == "verified" and account.processor == "sandbox"
    assert sandbox.account_status(account.processor_ref) == "verified"


def test_the_onboarding_page_verifies_or_restricts_and_goes_back(client, sandbox, make, db, manual):
    firm = make.firm(payout="pending")
    ref = firm.payout_account.processor_ref
    page = client.get(f"/sandbox/onboard/{ref}")
    assert page.status_code == 200
    assert 'name="csrf_token"' not in page.get_data(as_text=True)  # the processor's page, not ours
    done = client.post(f"/sandbox/onboard/{ref}", data={"outcome": "restricted"})
    assert done.status_code == 303
    assert done.headers["Location"] == f"http://localhost/firms/{firm.id}/payout-account/return"
    assert sandbox.account_status(ref) == "restricted"
    db.session.expire_all()
    # Its account.updated event was delivered after that request, and we asked again.
    assert firm.payout_account.status == "restricted"
    client.post(f"/sandbox/onboard/{ref}", data={"outcome": "verified"})
    db.session.expire_all()
    assert firm.payout_account.status == "verified"
    audit = db.session.execute(
        select(StateChange.from_state, StateChange.to_state)
        .where(StateChange.entity == "payout_account", StateChange.entity_id == firm.payout_account.id)
        .order_by(StateChange.id)
    ).all()
    assert [tuple(row) for row in audit] == [(None, "pending"), ("pending", "restricted"), ("restricted", "verified")]


def test_the_onboarding_page_refuses_nonsense(client, sandbox, make, db, manual):
    firm = make.firm(payout="pending")
    ref = firm.payout_account.processor_ref
    assert client.get("/sandbox/onboard/acct_sbx_nobody").status_code == 404
    assert client.post(f"/sandbox/onboard/{ref}", data={"outcome": "approved"}).status_code == 400
    assert sandbox.account_status(ref) == "pending"


def test_an_account_updated_event_is_checked_with_the_processor(client, sandbox, make, db, manual):
    firm = make.firm(payout="pending")
    account = firm.payout_account
    # A genuine-looking event that claims more than the processor says: nothing changes.
    body, headers = signed_event(
        sandbox, "evt_sbx_claims_1", account.processor_ref, payouts_enabled=True, capabilities={"transfers": "active"}
    )
    assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200
    db.session.refresh(account)
    assert account.status == "pending"
    # The processor verifies it; the next event (even a bare one) makes us see that.
    sandbox.finish_onboarding(account.processor_ref, "verified")
    body, headers = signed_event(sandbox, "evt_sbx_bare_2", account.processor_ref)
    assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200
    db.session.refresh(account)
    assert account.status == "verified"


def test_a_processor_that_cannot_be_asked_gets_the_event_again(client, sandbox, make, db, manual):
    firm = make.firm(payout="pending")
    ref = firm.payout_account.processor_ref
    sandbox.finish_onboarding(ref, "verified")
    sandbox.faults.configure(fail_next=1, kinds={"account"})
    body, headers = signed_event(sandbox, "evt_sbx_outage_1", ref)
    refused = client.post("/webhooks/sandbox", data=body, headers=headers)
    assert refused.status_code == 503
    assert db.session.get(WebhookEvent, "evt_sbx_outage_1") is None  # not recorded: it will come again
    assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200
    assert db.session.scalar(select(PayoutAccount.status).where(PayoutAccount.processor_ref == ref)) == "verified"


def test_an_event_about_someone_elses_account_costs_no_processor_call(client, sandbox, db):
    sandbox.faults.configure(fail_next=1, kinds={"account"})  # any call would fail
    body, headers = signed_event(sandbox, "evt_sbx_other_1", "acct_1NotOurs")
    assert client.post("/webhooks/sandbox", data=body, headers=headers).status_code == 200
    assert sandbox.faults.fail_next == 1
