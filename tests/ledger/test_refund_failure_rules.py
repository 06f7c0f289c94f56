"""verify() knows failed refunds: booked back into refunds_owed, out again only by a retry,
each of the pledge's amount, and only for a pledge that was returned."""

import pytest

from crowdfund import ledger
from crowdfund.workflows import cancel
from tests.ledger.test_verify import held_pledge, problems_about, raw_transfer
from tests.support.builders import live_reward_project

CLEARING, OWED = ledger.clearing_key("CNY"), ledger.refunds_owed_key("CNY")


@pytest.fixture()
def project(make, db):
    return live_reward_project(make, db, currency="CNY")


def cancelled_pledge(make, project, amount=10_000):
    pledge = held_pledge(make, project, amount)
    cancel.cancel_pledge(pledge.backer, pledge.id)
    return pledge


def failed(db, pledge, attempt, amount=None):
    raw_transfer(
        db,
        ledger.refund_failed_id(pledge.id, attempt),
        CLEARING,
        OWED,
        amount or pledge.amount,
        "refund_failed",
        pledge_id=pledge.id,
    )


def retried(db, pledge, attempt, amount=None):
    raw_transfer(
        db,
        ledger.refund_retry_id(pledge.id, attempt),
        OWED,
        CLEARING,
        amount or pledge.amount,
        "refund_retry",
        pledge_id=pledge.id,
    )


def test_a_failed_refund_owed_then_retried_is_sound(make, db, project):
    pledge = cancelled_pledge(make, project)
    failed(db, pledge, 1)
    assert ledger.verify() == []  # owed to the backer
    retried(db, pledge, 2)
    failed(db, pledge, 2)
    retried(db, pledge, 3)
    assert ledger.verify() == []


def test_a_held_pledge_cannot_have_a_failed_refund(make, db, project):
    pledge = held_pledge(make, project)
    failed(db, pledge, 1)
    problems_about(f"Pledge {pledge.id} (held, 10000) was never returned")


def test_a_retry_needs_a_failure_before_it(make, db, project):
    pledge = cancelled_pledge(make, project)
    retried(db, pledge, 2)
    problems_about("0 failed refund(s) and 1 retried one(s)")
    problems_about(f"{OWED} is negative")


def test_two_failures_without_a_retry_between_them(make, db, project):
    pledge = cancelled_pledge(make, project)
    failed(db, pledge, 1)
    failed(db, pledge, 2)
    problems_about("2 failed refund(s) and 0 retried one(s)")


def test_a_failed_refund_is_of_the_pledges_amount(make, db, project):
    pledge = cancelled_pledge(make, project)
    failed(db, pledge, 1, amount=4_000)
    problems_about("are not each of the pledge's amount")


def test_a_failed_refund_goes_from_clearing_to_refunds_owed(make, db, project):
    pledge = cancelled_pledge(make, project)
    raw_transfer(
        db,
        ledger.refund_failed_id(pledge.id, 1),
        CLEARING,
        ledger.escrow_key(project),
        pledge.amount,
        "refund_failed",
        pledge_id=pledge.id,
    )
    problems_about("which is not where a refund_failed goes")
