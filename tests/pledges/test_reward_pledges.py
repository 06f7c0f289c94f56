"""Reward pledges: pricing on the server, tiers, limits, declines, escrow."""

import secrets
from datetime import timedelta

import pytest

from crowdfund import ledger
from crowdfund.domain.money import max_minor
from crowdfund.errors import Conflict, PaymentDeclined, ValidationError
from crowdfund.models import LedgerTransfer, Pledge, RewardTier, utcnow
from crowdfund.services import receipts
from crowdfund.services.transitions import history
from crowdfund.workflows import checkout
from tests.support.builders import charges, live_reward_project

ADDRESS = {"name": "Li Wei", "line1": "1 Bund Road", "city": "Shanghai", "postal_code": "200000", "country": "CN"}


def key():
    return secrets.token_urlsafe(16)


def back(backer, project, **kwargs):
    kwargs.setdefault("idempotency_key", key())
    kwargs.setdefault("payment_method", "pm_card_visa")
    return checkout.place_pledge(backer, project, **kwargs)


def assert_ledger_ok():
    assert ledger.verify() == []


def test_a_reward_pledge_is_charged_and_held_in_escrow(make, db):
    project = live_reward_project(
        make,
        db,
        tiers=[{"title": "Tea set", "price": 19_900, "quantity": 5, "shipping": "worldwide", "shipping_fee": 1_500}],
    )
    tier = project.tiers[0]
    backer = make.user()
    pledge = back(
        backer, project, tier_id=tier.id, quantity=2, extra=600, shipping_address=ADDRESS, amount=1
    )  # an amount sent along with a tier is ignored: the server prices it
    assert pledge.status == "held"
    assert (pledge.reward_amount, pledge.extra_amount, pledge.shipping_fee) == (39_800, 600, 1_500)
    assert pledge.amount == 41_900 and pledge.currency == "CNY"
    assert pledge.shipping_address["city"] == "Shanghai"
    db.session.refresh(project)
    db.session.refresh(tier)
    assert (project.pledged_amount, project.backer_count, tier.sold) == (41_900, 1, 2)
    assert ledger.balance(ledger.escrow_key(project)) == 41_900
    fee = 41_900 * 290 // 10_000 + 30  # what the processor kept (the sandbox's card pricing)
    assert ledger.balance(ledger.clearing_key("CNY")) == -41_900 + fee
    assert ledger.balance(ledger.processor_fees_key("CNY")) == -fee
    hold = db.session.get(LedgerTransfer, f"pledge:{pledge.id}:hold")
    assert (hold.amount, hold.code, hold.pledge_id) == (41_900, "pledge_hold", pledge.id)
    assert [(c.from_state, c.to_state) for c in history(pledge)] == [("pending", "held")]
    assert charges(db) == 1
    assert_ledger_ok()


def test_a_plain_pledge_without_a_reward(make, db):
    project = live_reward_project(make, db)
    pledge = back(make.user(), project, amount=5_000, extra=250)
    assert pledge.status == "held" and pledge.tier_id is None
    assert (pledge.reward_amount, pledge.extra_amount, pledge.amount) == (0, 5_250, 5_250)
    assert_ledger_ok()


def test_the_same_backer_twice_is_one_backer(make, db):
    project = live_reward_project(make, db)
    backer = make.user()
    back(backer, project, amount=1_000)
    back(backer, project, amount=2_000)
    back(make.user(), project, amount=3_000)
    db.session.refresh(project)
    assert (project.pledged_amount, project.backer_count) == (6_000, 2)
    assert_ledger_ok()


def test_a_tier_that_ships_needs_an_address(make, db):
    project = live_reward_project(make, db, tiers=[{"price": 1_000, "shipping": "worldwide", "shipping_fee": 300}])
    with pytest.raises(ValidationError) as refused:
        back(make.user(), project, tier_id=project.tiers[0].id, shipping_address={"name": "Li", "country": "XX"})
    assert refused.value.code == "address_required"
    assert set(refused.value.fields) == {"shipping_line1", "shipping_city", "shipping_postal_code", "shipping_country"}
    assert db.session.query(Pledge).count() == 0 and charges(db) == 0


def test_a_tier_that_does_not_ship_charges_no_shipping(make, db):
    project = live_reward_project(make, db, tiers=[{"price": 1_000, "shipping": "none", "shipping_fee": 300}])
    pledge = back(make.user(), project, tier_id=project.tiers[0].id, shipping_address=ADDRESS)
    assert (pledge.amount, pledge.shipping_fee, pledge.shipping_address) == (1_000, 0, None)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"amount": 0}, "amount"),
        ({"amount": -500}, "amount"),
        ({"amount": None}, "amount"),
        ({"amount": 10.5}, "amount"),
        ({"amount": 1_000, "extra": -1}, "extra"),
        ({"amount": max_minor("CNY") + 1}, "amount"),
        ({"amount": max_minor("CNY"), "extra": 1}, "amount"),
        ({"tier": True, "quantity": 0}, "quantity"),
        ({"tier": True, "quantity": -2}, "quantity"),
        ({"tier": True, "quantity": 1_001}, "quantity"),
        ({"tier": True, "extra": max_minor("CNY")}, "quantity"),
        ({"shares": 5, "amount": 1_000}, "shares"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_is_written(make, db, kwargs, field):
    project = live_reward_project(make, db)
    if kwargs.pop("tier", False):
        kwargs["tier_id"] = project.tiers[0].id
    with pytest.raises(ValidationError) as refused:
        back(make.user(), project, **kwargs)
    assert field in refused.value.fields, refused.value.fields
    assert refused.value.message
    assert db.session.query(Pledge).count() == 0 and charges(db) == 0
    db.session.refresh(project.tiers[0])
    assert project.tiers[0].sold == 0


def test_a_tier_of_another_project_is_refused(make, db):
    project = live_reward_project(make, db)
    other = live_reward_project(make, db)
    with pytest.raises(ValidationError) as refused:
        back(make.user(), project, tier_id=other.tiers[0].id)
    assert "tier_id" in refused.value.fields


@pytest.mark.parametrize("status", ["draft", "in_review", "approved", "successful", "failed", "cancelled", "suspended"])
def test_only_a_live_campaign_takes_pledges(make, db, status):
    project = live_reward_project(make, db, status=status)
    with pytest.raises(Conflict) as refused:
        back(make.user(), project, amount=1_000)
    assert refused.value.code == "project_not_live"
    assert "not taking pledges" in refused.value.message
    assert db.session.query(Pledge).count() == 0 and charges(db) == 0


def test_a_live_campaign_past_its_deadline_takes_no_pledges(make, db):
    project = live_reward_project(make, db, deadline_in=timedelta(seconds=-1))
    with pytest.raises(Conflict) as refused:
        back(make.user(), project, amount=1_000)
    assert refused.value.code == "project_not_live" and "deadline" in refused.value.message
    assert charges(db) == 0


def test_the_tier_availability_window(make, db):
    now = utcnow()
    project = live_reward_project(
        make,
        db,
        tiers=[
            {"title": "Later", "price": 1_000, "available_from": now + timedelta(days=1)},
            {"title": "Gone", "price": 1_000, "available_until": now - timedelta(minutes=1)},
            {
                "title": "Now",
                "price": 1_000,
                "available_from": now - timedelta(days=1),
                "available_until": now + timedelta(days=1),
            },
        ],
    )
    later, gone, current = project.tiers
    for tier, words in ((later, "not available yet"), (gone, "no longer available")):
        with pytest.raises(ValidationError) as refused:
            back(make.user(), project, tier_id=tier.id)
        assert refused.value.code == "tier_not_available" and words in refused.value.message
    assert back(make.user(), project, tier_id=current.id).status == "held"
    options = {o.tier.title: o.reason for o in receipts.tier_options(project)}
    assert options == {"Later": "not_yet", "Gone": "ended", "Now": None}


def test_the_per_backer_limit_counts_pending_and_held_pledges(make, db):
    project = live_reward_project(make, db, tiers=[{"price": 1_000, "quantity": 50, "per_backer_limit": 3}])
    tier = project.tiers[0]
    backer = make.user()
    back(backer, project, tier_id=tier.id, quantity=2)
    with pytest.raises(ValidationError) as refused:
        back(backer, project, tier_id=tier.id, quantity=2)
    assert refused.value.code == "per_backer_limit"
    assert "at most 3" in refused.value.message and "you can add 1" in refused.value.message
    assert back(backer, project, tier_id=tier.id, quantity=1).status == "held"  # exactly at the limit
    assert back(make.user(), project, tier_id=tier.id, quantity=3).status == "held"  # others have their own
    db.session.refresh(tier)
    assert tier.sold == 6
    assert_ledger_ok()


def test_a_failed_pledge_does_not_count_against_the_per_backer_limit(make, db):
    project = live_reward_project(make, db, tiers=[{"price": 1_000, "quantity": 50, "per_backer_limit": 1}])
    backer = make.user()
    with pytest.raises(PaymentDeclined):
        back(backer, project, tier_id=project.tiers[0].id, payment_method="pm_card_chargeDeclined")
    assert back(backer, project, tier_id=project.tiers[0].id).status == "held"


def test_a_declined_card_leaves_nothing_in_escrow_and_releases_the_units(make, db):
    project = live_reward_project(make, db, tiers=[{"price": 2_500, "quantity": 1}])
    tier = project.tiers[0]
    backer = make.user()
    with pytest.raises(PaymentDeclined) as declined:
        back(backer, project, tier_id=tier.id, payment_method="pm_card_insufficientFunds")
    assert declined.value.code == "insufficient_funds"
    assert declined.value.message == "Your card has insufficient funds."
    pledge = db.session.query(Pledge).one()
    assert pledge.status == "failed" and pledge.failure_code == "insufficient_funds"
    assert pledge.ended_at is not None
    db.session.refresh(tier)
    db.session.refresh(project)
    assert tier.sold == 0 and project.pledged_amount == 0 and project.backer_count == 0
    assert db.session.query(LedgerTransfer).count() == 0
    assert ledger.balance(ledger.escrow_key(project)) == 0
    # The one unit is free again: someone else gets it.
    assert back(make.user(), project, tier_id=tier.id).status == "held"
    assert_ledger_ok()


def test_sold_out_is_refused_without_a_charge(make, db):
    project = live_reward_project(make, db, tiers=[{"price": 1_000, "quantity": 3}])
    tier = project.tiers[0]
    back(make.user(), project, tier_id=tier.id, quantity=2)
    with pytest.raises(Conflict) as refused:
        back(make.user(), project, tier_id=tier.id, quantity=2)
    assert refused.value.code == "sold_out" and refused.value.message == "Only 1 of this reward is left."
    back(make.user(), project, tier_id=tier.id, quantity=1)
    with pytest.raises(Conflict) as refused:
        back(make.user(), project, tier_id=tier.id)
    assert refused.value.message == "This reward is sold out."
    assert charges(db) == 2
    db.session.refresh(tier)
    assert tier.sold == 3
    assert_ledger_ok()


def test_an_unlimited_tier_never_sells_out(make, db):
    project = live_reward_project(make, db, tiers=[{"price": 100, "quantity": None}])
    pledge = back(make.user(), project, tier_id=project.tiers[0].id, quantity=1_000)
    assert pledge.status == "held"
    assert db.session.get(RewardTier, project.tiers[0].id).sold == 1_000


def test_the_same_attempt_twice_is_one_pledge_and_one_charge(make, db):
    project = live_reward_project(make, db)
    backer = make.user()
    attempt = key()
    first = back(backer, project, tier_id=project.tiers[0].id, idempotency_key=attempt)
    second = back(backer, project, tier_id=project.tiers[0].id, idempotency_key=attempt)
    assert second.id == first.id and second.status == "held"
    assert db.session.query(Pledge).count() == 1 and charges(db) == 1
    db.session.refresh(project)
    assert project.pledged_amount == 10_000
    assert_ledger_ok()


def test_a_repeated_declined_attempt_returns_the_failed_pledge(make, db):
    project = live_reward_project(make, db)
    backer = make.user()
    attempt = key()
    with pytest.raises(PaymentDeclined):
        back(backer, project, amount=1_000, idempotency_key=attempt, payment_method="pm_card_chargeDeclined")
    again = back(backer, project, amount=1_000, idempotency_key=attempt, payment_method="pm_card_visa")
    assert again.status == "failed"
    assert db.session.query(Pledge).count() == 1 and charges(db) == 0


def test_another_backer_may_reuse_a_key(make, db):
    project = live_reward_project(make, db)
    attempt = key()
    a = back(make.user(), project, amount=1_000, idempotency_key=attempt)
    b = back(make.user(), project, amount=1_000, idempotency_key=attempt)
    assert a.id != b.id and charges(db) == 2


def test_a_missing_attempt_key_is_refused(make, db):
    project = live_reward_project(make, db)
    with pytest.raises(ValidationError) as refused:
        back(make.user(), project, amount=1_000, idempotency_key="")
    assert "reload the page" in refused.value.message


def test_a_payment_method_is_required(make, db):
    project = live_reward_project(make, db)
    with pytest.raises(ValidationError) as refused:
        back(make.user(), project, amount=1_000, payment_method="")
    assert "payment_method" in refused.value.fields


def test_an_unknown_test_card_fails_cleanly(make, db):
    project = live_reward_project(make, db, tiers=[{"price": 1_000, "quantity": 1}])
    with pytest.raises(PaymentDeclined) as declined:
        back(make.user(), project, tier_id=project.tiers[0].id, payment_method="pm_card_nonsense")
    assert declined.value.code == "invalid_payment_method"
    assert db.session.get(RewardTier, project.tiers[0].id).sold == 0
    assert_ledger_ok()
