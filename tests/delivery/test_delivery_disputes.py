"""A backer of an on_delivery campaign disputes their payment (the sandbox's
`pm_card_createDispute`, its dispute coming an hour after the charge, so after success) at
each stage of the delivery: the dispute takes the remainder from where it is (held for
delivery, or the firm's payable once released, paid out or not), the delivery waits as
`disputed`, and a won dispute puts everything back where it was; a lost one ends the delivery.
`ledger verify` is clean, reconcile agrees with the processor and the statement's identity
holds after every step."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowdfund import ledger
from crowdfund.domain.clock import utcnow
from crowdfund.jobs.deliveries import sweep_deliveries
from crowdfund.models import Dispute, LedgerTransfer, Pledge, PledgeDelivery
from tests.api.conftest import error_of
from tests.delivery.conftest import assert_books_ok, assert_identity, on_delivery_campaign, statement_of
from tests.disputes.helpers import books_agree, decide, deliver, pledge_to_dispute
from tests.support.settlement import close

PRICE = 2500
FEE = PRICE * 500 // 10_000  # 125
NET = PRICE - FEE  # 2375
AT_SUCCESS = NET * 5000 // 10_000  # 1187
HELD = NET - AT_SUCCESS  # 1188
STAGES = ("awaiting_shipment", "shipped", "problem", "released", "paid_out")


@pytest.fixture(autouse=True)
def late_disputes(app, monkeypatch):
    monkeypatch.setitem(app.config, "SANDBOX_DISPUTE_DELAY", 3600)


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.get_json())
    return response.get_json()


def legs(db, pledge_id):
    db.session.expire_all()
    rows = db.session.execute(
        select(LedgerTransfer.code, LedgerTransfer.amount).where(LedgerTransfer.pledge_id == pledge_id)
    ).all()
    db.session.rollback()
    return dict(rows)


def dispute_of(db, pledge_id):
    db.session.rollback()
    return db.session.scalar(select(Dispute).where(Dispute.pledge_id == pledge_id))


def delivery(db, pledge_id):
    db.session.expire_all()
    return db.session.scalar(select(PledgeDelivery).where(PledgeDelivery.pledge_id == pledge_id))


def checked(app, db, project, *, reconciled=True):
    """ledger verify (and, once the dispute's webhooks came, reconcile) clean; the identity holds."""
    if reconciled:
        books_agree(app, db)
    else:
        assert_books_ok(db)
    data = statement_of(db, project)
    assert_identity(data)
    return data


def at_stage(app, db, make, api, stage):
    """An on_delivery campaign that succeeded, two plain backers and one whose charge will be
    disputed, that one's delivery brought to `stage`. Returns (project, pledge id, backer token)."""
    project, _plain = on_delivery_campaign(make, backers=2)
    pledge = pledge_to_dispute(make, project)
    pledge_id, backer = pledge.id, pledge.backer
    close(db, project)
    token = api.token_for(backer)
    if stage in ("shipped", "released", "paid_out"):
        founder = api.token_for(make.founder_of(project))
        body = {"pledge_ids": [pledge_id], "carrier": "DHL", "tracking": "JD0001"}
        ok(api.post(f"/projects/{project.id}/shipments", body, token=founder), 201)
    if stage == "problem":
        ok(api.post(f"/pledges/{pledge_id}/report-problem", {"reason": "It never came."}, token=token))
    if stage in ("released", "paid_out"):
        ok(api.post(f"/pledges/{pledge_id}/confirm-receipt", token=token))
    if stage == "paid_out":
        assert sweep_deliveries((utcnow() + timedelta(days=2)).isoformat())["paid_out"] == 1
    assert delivery(db, pledge_id).status == ("released" if stage == "paid_out" else stage)
    checked(app, db, project, reconciled=False)  # the processor has taken it; its webhook is to come
    return project, pledge_id, token


@pytest.mark.parametrize("stage", STAGES)
def test_a_dispute_takes_the_remainder_from_where_it_is_and_a_won_one_puts_it_back(app, client, db, make, api, stage):
    project, pledge_id, token = at_stage(app, db, make, api, stage)
    before = statement_of(db, project)
    payable = ledger.firm_payable_key(project.firm_id, "USD")

    deliver(app, db, seconds=7200)  # the dispute opens; the processor takes the whole payment back
    dispute = dispute_of(db, pledge_id)
    assert db.session.get(Pledge, pledge_id).status == "disputed"
    assert delivery(db, pledge_id).status == "disputed"
    moved = legs(db, pledge_id)
    released = stage in ("released", "paid_out")
    assert moved["dispute_net"] == AT_SUCCESS and moved["dispute_release_fee"] == FEE
    assert moved.get("dispute_delivery", 0) == (HELD if released else 0)
    assert moved.get("dispute_held", 0) == (0 if released else HELD)
    # The firm was paid the part at success (and the remainder, once paid out): its account gives it back.
    assert moved["payout_reversal"] == AT_SUCCESS + (HELD if stage == "paid_out" else 0)
    assert ledger.balance(payable) == 0  # what the firm was paid of it came back from its account
    data = checked(app, db, project)
    assert data["disputed"] == PRICE
    assert data["held_for_delivery"] == before["held_for_delivery"] - (0 if released else HELD)

    # Nothing releases, pays out or refunds it while the card network decides.
    refused = api.post(f"/pledges/{pledge_id}/confirm-receipt", token=token)
    assert refused.status_code == 409 and error_of(refused)["code"] == "disputed"
    assert ok(api.get(f"/pledges/{pledge_id}", token=token))["delivery"]["status"] == "disputed"
    later = utcnow() + timedelta(days=app.config["DELIVERY_CONFIRM_DAYS"] + 2)
    done = sweep_deliveries(later.isoformat())
    assert (done["timed_out"], done["refunded"], done["paid_out"]) == (0, 0, 0)
    checked(app, db, project)

    decide(client, dispute.processor_ref, "won")
    deliver(app, db)
    assert dispute_of(db, pledge_id).status == "won"
    assert db.session.get(Pledge, pledge_id).status == "released"
    assert delivery(db, pledge_id).status == ("released" if released else stage)
    moved = legs(db, pledge_id)
    assert moved.get("dispute_won_held", 0) == moved.get("dispute_held", 0)
    assert moved.get("dispute_won_delivery", 0) == moved.get("dispute_delivery", 0)
    assert moved["dispute_repay"] == moved["payout_reversal"]  # the firm is paid again
    data = checked(app, db, project)
    assert data["disputed"] == 0
    assert data["held_for_delivery"] == before["held_for_delivery"]
    assert data["fee"] == before["fee"]

    if stage == "released":  # released but not paid before the dispute: the next daily batch pays it
        assert sweep_deliveries((later + timedelta(days=2)).isoformat())["paid_out"] == 1
        data = checked(app, db, project)
        assert data["awaiting_payout"] == 0 and ledger.balance(payable) == 0
    if stage in ("awaiting_shipment", "shipped"):  # and the delivery goes on as before
        ok(api.post(f"/pledges/{pledge_id}/confirm-receipt", token=token))
        assert delivery(db, pledge_id).status == "released"
        checked(app, db, project)


@pytest.mark.parametrize("stage", ("shipped", "paid_out"))
def test_a_lost_dispute_ends_the_delivery(app, client, db, make, api, stage):
    project, pledge_id, token = at_stage(app, db, make, api, stage)
    deliver(app, db, seconds=7200)
    dispute = dispute_of(db, pledge_id)
    decide(client, dispute.processor_ref, "lost")
    deliver(app, db)
    assert dispute_of(db, pledge_id).status == "lost"
    ended = delivery(db, pledge_id)
    assert ended.status == "disputed" and ended.ended_at is not None
    data = checked(app, db, project)
    assert data["disputed"] == PRICE
    assert ledger.balance(ledger.firm_payable_key(project.firm_id, "USD")) == 0
    later = utcnow() + timedelta(days=app.config["DELIVERY_CONFIRM_DAYS"] + 2)
    done = sweep_deliveries(later.isoformat())
    assert (done["timed_out"], done["refunded"], done["paid_out"]) == (0, 0, 0)
    refused = api.post(f"/pledges/{pledge_id}/report-problem", {"reason": "Never came."}, token=token)
    assert refused.status_code == 409 and error_of(refused)["code"] == "disputed"
    checked(app, db, project)
