"""Cancelling, the deadline race, and recovery from gateway failures."""

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import update

from crowdfund import ledger
from crowdfund.errors import Conflict, IllegalTransition, PermissionDenied
from crowdfund.extensions import db as _db
from crowdfund.models import EquityOffering, LedgerTransfer, Pledge, Project, RewardTier, utcnow
from crowdfund.payments.sandbox import SandboxGateway
from crowdfund.services import receipts
from crowdfund.workflows import cancel, checkout, reconcile
from tests.support.builders import charges, investor, live_equity_project, live_reward_project, refunds


def money_moves(db):
    """The ledger's transfers other than the processor's fees (each charge books one)."""
    return db.session.query(LedgerTransfer).filter(LedgerTransfer.code != "processor_fee").count()


def back(backer, project, **kwargs):
    kwargs.setdefault("idempotency_key", secrets.token_urlsafe(16))
    kwargs.setdefault("payment_method", "pm_card_visa")
    if kwargs.get("shares") is not None:
        kwargs.setdefault("acknowledge_risks", True)
    return checkout.place_pledge(backer, project, **kwargs)


def reload(db, model, id):
    return db.session.get(model, id, populate_existing=True)


# -- cancelling --------------------------------------------------------------------------------


def test_a_backer_cancels_a_reward_pledge_while_the_campaign_is_live(make, db):
    project = live_reward_project(make, db, tiers=[{"price": 3_000, "quantity": 5}])
    backer = make.user()
    pledge = back(backer, project, tier_id=project.tiers[0].id, quantity=2)
    assert receipts.receipt(pledge).can_cancel
    cancelled = cancel.cancel_pledge(backer, pledge.id)
    assert cancelled.status == "cancelled" and cancelled.refund_ref and cancelled.ended_at
    project = reload(db, Project, project.id)
    assert (project.pledged_amount, project.backer_count) == (0, 0)
    assert reload(db, RewardTier, project.tiers[0].id).sold == 0
    assert ledger.balance(ledger.escrow_key(project)) == 0
    refund = db.session.get(LedgerTransfer, f"pledge:{pledge.id}:refund")
    assert (refund.amount, refund.code) == (6_000, "pledge_refund")
    assert refunds(db) == 1
    receipt = receipts.receipt(cancelled)
    assert receipt.escrow == "returned" and not receipt.can_cancel
    assert ledger.verify() == []


def test_cancelling_twice_refunds_once(make, db):
    project = live_reward_project(make, db)
    backer = make.user()
    pledge = back(backer, project, amount=1_000)
    cancel.cancel_pledge(backer, pledge.id)
    assert cancel.cancel_pledge(backer, pledge.id).status == "cancelled"
    assert refunds(db) == 1
    assert money_moves(db) == 2  # hold and refund; the processor's fee is not returned
    assert ledger.verify() == []


def test_a_backer_with_two_pledges_stays_a_backer_after_cancelling_one(make, db):
    project = live_reward_project(make, db)
    backer = make.user()
    first = back(backer, project, amount=1_000)
    back(backer, project, amount=2_000)
    cancel.cancel_pledge(backer, first.id)
    project = reload(db, Project, project.id)
    assert (project.pledged_amount, project.backer_count) == (2_000, 1)
    assert ledger.verify() == []


def test_nobody_cancels_someone_elses_pledge(make, db):
    project = live_reward_project(make, db)
    pledge = back(make.user(), project, amount=1_000)
    with pytest.raises(PermissionDenied) as refused:
        cancel.cancel_pledge(make.user(), pledge.id)
    assert refused.value.code == "not_your_pledge"
    assert reload(db, Pledge, pledge.id).status == "held" and refunds(db) == 0


def test_a_pledge_cannot_be_cancelled_after_the_deadline(make, db):
    project = live_reward_project(make, db)
    backer = make.user()
    pledge = back(backer, project, amount=1_000)
    project.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        cancel.cancel_pledge(backer, pledge.id)
    assert refused.value.code == "cancel_window_closed"
    assert "campaign has ended" in refused.value.message
    assert reload(db, Pledge, pledge.id).status == "held" and refunds(db) == 0
    assert not receipts.receipt(reload(db, Pledge, pledge.id)).can_cancel
    assert money_moves(db) == 1


def test_a_failed_pledge_cannot_be_cancelled(make, db):
    from crowdfund.errors import PaymentDeclined

    project = live_reward_project(make, db)
    backer = make.user()
    with pytest.raises(PaymentDeclined):
        back(backer, project, amount=1_000, payment_method="pm_card_chargeDeclined")
    pledge = db.session.query(Pledge).one()
    with pytest.raises(Conflict) as refused:
        cancel.cancel_pledge(backer, pledge.id)
    assert refused.value.code == "wrong_state" and "failed" in refused.value.message


def test_equity_can_be_cancelled_until_the_cutoff(app, make, db):
    assert app.config["EQUITY_CANCEL_CUTOFF"] == 48 * 3600
    project = live_equity_project(make, db, deadline_in=timedelta(hours=49), shares_offered=100)
    backer = investor(make, db)
    pledge = back(backer, project, shares=10)
    receipt = receipts.receipt(pledge)
    assert receipt.can_cancel
    assert abs(receipt.cancel_until - (project.deadline - timedelta(hours=48))) < timedelta(seconds=1)
    assert cancel.cancel_pledge(backer, pledge.id).status == "cancelled"
    assert reload(db, EquityOffering, project.equity.id).shares_committed == 0
    assert ledger.verify() == []


def test_equity_cannot_be_cancelled_inside_the_last_48_hours(make, db):
    project = live_equity_project(make, db, deadline_in=timedelta(hours=47), shares_offered=100)
    backer = investor(make, db)
    pledge = back(backer, project, shares=10)  # investing is still open...
    assert not receipts.receipt(pledge).can_cancel
    with pytest.raises(Conflict) as refused:  # ...but cancelling is not
        cancel.cancel_pledge(backer, pledge.id)
    assert refused.value.code == "cancel_window_closed"
    assert "until 48 hours before the campaign's deadline" in refused.value.message
    assert reload(db, Pledge, pledge.id).status == "held" and refunds(db) == 0
    assert reload(db, EquityOffering, project.equity.id).shares_committed == 10
    assert ledger.verify() == []


def test_the_cutoff_is_configurable(app, make, db):
    project = live_equity_project(make, db, deadline_in=timedelta(hours=47), shares_offered=100)
    backer = investor(make, db)
    pledge = back(backer, project, shares=10)
    saved = app.config["EQUITY_CANCEL_CUTOFF"]
    app.config["EQUITY_CANCEL_CUTOFF"] = 3600
    try:
        assert cancel.cancel_pledge(backer, pledge.id).status == "cancelled"
    finally:
        app.config["EQUITY_CANCEL_CUTOFF"] = saved


def test_a_refund_the_gateway_did_not_confirm_is_retried_once(make, db, sandbox):
    project = live_reward_project(make, db)
    backer = make.user()
    pledge = back(backer, project, amount=1_000)
    sandbox.faults.configure(fail_next=1, kinds={"refund"})
    cancelled = cancel.cancel_pledge(backer, pledge.id)
    assert cancelled.status == "cancelled" and cancelled.refund_ref is None
    assert receipts.receipt(cancelled).escrow == "refund_pending"
    assert refunds(db) == 0
    assert ledger.verify() == []  # the books already say the money left escrow
    summary = reconcile.reconcile_pending(timedelta(0))
    assert summary["refunds_confirmed"] == 1
    assert reload(db, Pledge, pledge.id).refund_ref is not None and refunds(db) == 1
    assert reconcile.reconcile_pending(timedelta(0))["refunds_confirmed"] == 0
    assert refunds(db) == 1


# -- the deadline race: the campaign closes while the card is being charged -------------------


class CampaignClosesDuringCharge(SandboxGateway):
    """The real sandbox, plus the campaign closing right after the processor says yes."""

    def __init__(self, app, project_id, change):
        super().__init__(app)
        self.project_id, self.change = project_id, change

    def charge(self, **kwargs):
        result = super().charge(**kwargs)
        with self._engine().begin() as conn:
            conn.execute(
                update(Project.__table__).where(Project.__table__.c.id == self.project_id).values(**self.change)
            )
        return result


@pytest.mark.parametrize(
    "change",
    [
        {"deadline": utcnow() - timedelta(seconds=1)},  # the deadline passed
        {"status": "successful"},  # the closing job got there first
    ],
    ids=["deadline-passed", "campaign-closed"],
)
def test_a_pledge_racing_the_deadline_is_refused_and_refunded(app, make, db, use_gateway, change):
    project = live_reward_project(make, db, tiers=[{"price": 4_000, "quantity": 3}])
    gateway = use_gateway(CampaignClosesDuringCharge(app, project.id, change))
    backer = make.user()
    with pytest.raises(Conflict) as refused:
        back(backer, project, tier_id=project.tiers[0].id)
    assert refused.value.code == "project_not_live"
    assert "refunded" in refused.value.message
    pledge = db.session.query(Pledge).one()
    assert pledge.status == "failed" and pledge.failure_code == "project_not_live"
    assert pledge.charge_ref and pledge.refund_ref
    assert charges(db) == 1 and refunds(db) == 1
    assert reload(db, RewardTier, project.tiers[0].id).sold == 0
    project = reload(db, Project, project.id)
    assert (project.pledged_amount, project.backer_count) == (0, 0)
    assert money_moves(db) == 0  # only the processor's fee: it kept it
    assert ledger.verify() == []
    assert gateway.project_id == project.id


# -- the gateway does not answer ---------------------------------------------------------------


@pytest.mark.parametrize("after_commit", [False, True], ids=["never-arrived", "reply-lost"])
def test_a_transient_failure_leaves_the_pledge_pending_until_reconcile(make, db, sandbox, after_commit):
    project = live_reward_project(make, db, tiers=[{"price": 1_500, "quantity": 2}])
    backer = make.user()
    sandbox.faults.configure(fail_next=1, kinds={"charge"}, after_commit=after_commit)
    attempt = secrets.token_urlsafe(16)
    pledge = back(backer, project, tier_id=project.tiers[0].id, idempotency_key=attempt)
    assert pledge.status == "pending"
    assert receipts.receipt(pledge).escrow == "in_flight"
    assert charges(db) == (1 if after_commit else 0)
    assert reload(db, RewardTier, project.tiers[0].id).sold == 1  # still reserved for this backer
    assert ledger.verify() == []
    # Pressing the button again changes nothing and charges nothing.
    assert back(backer, project, tier_id=project.tiers[0].id, idempotency_key=attempt).id == pledge.id
    # Too recent for reconcile's default patience:
    assert reconcile.reconcile_pending(timedelta(minutes=10))["held"] == 0
    summary = reconcile.reconcile_pending(timedelta(0))
    assert summary["held"] == 1
    pledge = reload(db, Pledge, pledge.id)
    assert pledge.status == "held"
    assert charges(db) == 1
    project = reload(db, Project, project.id)
    assert (project.pledged_amount, project.backer_count) == (1_500, 1)
    assert ledger.verify() == []
    assert reconcile.reconcile_pending(timedelta(0))["held"] == 0  # nothing left to do


def test_reconcile_fails_a_pending_pledge_whose_campaign_closed(make, db, sandbox):
    project = live_reward_project(make, db, tiers=[{"price": 1_500, "quantity": 2}])
    sandbox.faults.configure(fail_next=1, kinds={"charge"}, after_commit=True)
    pledge = back(make.user(), project, tier_id=project.tiers[0].id)
    assert pledge.status == "pending"
    project.deadline = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert reconcile.reconcile_pending(timedelta(0))["failed"] == 1
    pledge = reload(db, Pledge, pledge.id)
    assert pledge.status == "failed" and pledge.failure_code == "project_not_live"
    assert charges(db) == 1 and refunds(db) == 1
    assert reload(db, RewardTier, project.tiers[0].id).sold == 0
    assert ledger.verify() == []


def test_reconcile_fails_a_pending_pledge_whose_card_is_declined(make, db, sandbox):
    project = live_reward_project(make, db)
    sandbox.faults.configure(fail_next=1, kinds={"charge"})
    pledge = back(make.user(), project, amount=1_000, payment_method="pm_card_chargeDeclined")
    assert pledge.status == "pending"
    assert reconcile.reconcile_pending(timedelta(0))["failed"] == 1
    assert reload(db, Pledge, pledge.id).failure_code == "card_declined"
    assert ledger.verify() == []


def test_the_reconcile_command(app, make, db, sandbox):
    project = live_reward_project(make, db)
    sandbox.faults.configure(fail_next=1, kinds={"charge"})
    pledge = back(make.user(), project, amount=1_000)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["pledges", "reconcile", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    assert "held: 1" in result.output
    assert reload(db, Pledge, pledge.id).status == "held"


def test_state_changes_go_through_the_state_machine(make, db):
    project = live_reward_project(make, db)
    backer = make.user()
    pledge = back(backer, project, amount=1_000)
    cancel.cancel_pledge(backer, pledge.id)
    from crowdfund.services.transitions import history, transition

    changes = [(c.from_state, c.to_state, c.actor_id) for c in history(reload(db, Pledge, pledge.id))]
    assert changes == [("pending", "held", backer.id), ("held", "cancelled", backer.id)]
    with pytest.raises(IllegalTransition):
        transition(reload(db, Pledge, pledge.id), "held")
    _db.session.rollback()
