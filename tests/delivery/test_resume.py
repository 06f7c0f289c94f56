"""Release on delivery survives crashes: killed in the settlement's release batch, between a
refund of a held remainder and its booking, or between a delivery payout and its booking, it
runs again and every pledge's money moves once. Late rewards are flagged and refunded."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crowdfund.domain.clock import utcnow
from crowdfund.jobs.deliveries import sweep_deliveries
from crowdfund.models import LedgerTransfer, PledgeDelivery
from crowdfund.services import deliveries, shipments
from crowdfund.services.campaigns import close_due
from crowdfund.workflows import delivery_release, settlement
from tests.delivery.conftest import assert_books_ok, assert_identity, mail_to, on_delivery_campaign, statement_of
from tests.support.settlement import operations, statuses

HELD = 1188  # of a 25.00 pledge: (2500 - 5%) - 50% of that, rounded down for the firm


class Crash(BaseException):
    """Stands in for the process being killed: not an Exception, so nothing catches it."""


def crash_once(monkeypatch, target, name):
    real = getattr(target, name)
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise Crash(f"killed inside {name}")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, crashing)


def close_without_settling(db, project):
    close_due(now=project.deadline + timedelta(seconds=1))
    db.session.commit()
    db.session.info.clear()


def transfers(db, code):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(LedgerTransfer).where(LedgerTransfer.code == code))


def held_rows(db, status):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(PledgeDelivery).where(PledgeDelivery.status == status))


@pytest.fixture()
def short_claims(app, monkeypatch):
    monkeypatch.setitem(app.config, "SETTLEMENT_CLAIM_SECONDS", 0)  # a dead worker's claim expires at once


def test_a_crash_inside_the_release_batch_rolls_it_back_and_a_rerun_holds_each_remainder_once(db, make, monkeypatch):
    project, pledges = on_delivery_campaign(make, backers=3)
    close_without_settling(db, project)
    crash_once(monkeypatch, deliveries, "open_deliveries")
    with pytest.raises(Crash):
        settlement.settle(project.id)
    db.session.rollback()
    assert statuses(db, project) == {"held": 3}
    assert transfers(db, "delivery_hold") == 0
    assert settlement.settle(project.id) == "completed"
    assert settlement.settle(project.id) == "completed"  # again: nothing more
    assert statuses(db, project) == {"released": 3}
    assert transfers(db, "delivery_hold") == 3 and held_rows(db, "awaiting_shipment") == 3
    assert operations(db, "payout") == 1
    assert statement_of(db, project)["held_for_delivery"] == 3 * HELD
    assert_books_ok(db)


def _shipped_problem(db, make, backers=2):
    project, pledges = on_delivery_campaign(make, backers=backers)
    close_without_settling(db, project)
    settlement.settle(project.id)
    founder = make.founder_of(project)
    shipments.record_shipment(founder, project, [p.id for p in pledges], "DHL", "JD42")
    db.session.commit()
    admin = make.admin()
    for pledge in pledges:
        deliveries.report_problem(pledge.backer, pledge.id, "Never came.")
    db.session.commit()
    return project, pledges, admin


def test_a_crash_between_a_refund_and_its_booking_refunds_once(db, make, monkeypatch, short_claims):
    project, pledges, admin = _shipped_problem(db, make)
    crash_once(monkeypatch, delivery_release, "_book_refund")
    for pledge in pledges:
        deliveries.admin_refund(admin, pledge.id)
    db.session.commit()
    db.session.info.clear()  # the refund sweep is left to the runs below
    with pytest.raises(Crash):
        delivery_release.refund_waiting()
    db.session.rollback()
    assert operations(db, "refund") == 2  # the processor refunded; our books did not record it
    assert transfers(db, "delivery_refund") == 0
    assert delivery_release.refund_waiting() == 2
    assert delivery_release.refund_waiting() == 0
    assert operations(db, "refund") == 2  # replayed under the same keys: no second refund
    assert transfers(db, "delivery_refund") == 2 and held_rows(db, "refunded") == 2
    data = statement_of(db, project)
    assert data["refunded"] == 2 * HELD and data["held_for_delivery"] == 0
    assert_identity(data)
    assert len(mail_to(db, pledges[0].backer, "refunded")) == 1
    assert_books_ok(db)


def test_a_crash_between_a_delivery_payout_and_its_booking_pays_once(db, make, monkeypatch):
    project, pledges, admin = _shipped_problem(db, make)
    for pledge in pledges:
        deliveries.admin_release(admin, pledge.id)
    db.session.commit()
    crash_once(monkeypatch, delivery_release, "_book_payout")
    with pytest.raises(Crash):
        delivery_release.pay_out_released()
    db.session.rollback()
    assert operations(db, "payout") == 2  # the settlement's, and the delivery batch's
    assert delivery_release.pay_out_released() == 1
    assert delivery_release.pay_out_released() == 0
    assert operations(db, "payout") == 2  # replayed under the same key: paid once
    data = statement_of(db, project)
    assert data["awaiting_payout"] == 0 and data["held_for_delivery"] == 0
    assert_identity(data)
    assert_books_ok(db)


def test_a_reported_problem_is_not_released_by_the_timeout(app, db, make):
    project, pledges, admin = _shipped_problem(db, make)
    later = utcnow() + timedelta(days=app.config["DELIVERY_CONFIRM_DAYS"] + 1)
    assert sweep_deliveries(later.isoformat())["timed_out"] == 0
    assert held_rows(db, "problem") == 2
    assert_books_ok(db)


def test_late_rewards_are_flagged_and_the_admin_refunds_every_unshipped_one(app, db, make, short_claims):
    project, pledges = on_delivery_campaign(make, backers=3)
    project.tiers[0].estimated_delivery = f"{utcnow().year - 1}-01"  # long past (set behind the form's back)
    db.session.commit()
    close_without_settling(db, project)
    settlement.settle(project.id)
    founder = make.founder_of(project)
    shipments.record_shipment(founder, project, [pledges[0].id], "DHL", "JD1")
    db.session.commit()
    admin = make.admin()

    assert sweep_deliveries()["late"] == 2
    assert sweep_deliveries()["late"] == 0  # flagged once
    assert mail_to(db, pledges[1].backer, "late") and not mail_to(db, pledges[0].backer, "late")
    assert mail_to(db, admin, "not shipped in time")

    assert deliveries.admin_refund_unshipped(admin, project.id) == 2
    db.session.commit()
    db.session.info.clear()
    assert delivery_release.refund_waiting() == 2
    assert held_rows(db, "refunded") == 2 and held_rows(db, "shipped") == 1
    data = statement_of(db, project)
    assert data["refunded"] == 2 * HELD and data["held_for_delivery"] == HELD
    assert_identity(data)
    assert_books_ok(db)


def test_the_sweep_runs_from_the_command_line_and_on_the_schedule(app, db, make):
    from crowdfund.jobs import periodic_jobs

    assert ("sweep_deliveries", float(app.config["DELIVERY_SWEEP_INTERVAL"])) in periodic_jobs(app.config)
    project, pledges, admin = _shipped_problem(db, make)
    deliveries.confirm_receipt(pledges[0].backer, pledges[0].id)  # a problem may still be confirmed
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["deliveries", "sweep"])
    assert result.exit_code == 0, result.output
    assert "paid_out: 1" in result.output
    assert_books_ok(db)
