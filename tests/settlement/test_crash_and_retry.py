"""Settlement survives crashes, flaky processors and stuck refunds: every pledge settles once."""

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from crowdfund.models import OutboxMessage, Pledge, SandboxOperation
from crowdfund.services import statements, transitions
from crowdfund.services.campaigns import close_due
from crowdfund.workflows import settlement, settlement_refunds, settlement_release
from tests.support.settlement import (
    assert_ledger_ok,
    close,
    equity_campaign,
    operations,
    reward_campaign,
    settlement_of,
    statuses,
)


class Crash(BaseException):
    """Stands in for the process being killed: not an Exception, so nothing catches it."""


@pytest.fixture()
def gateway(sandbox):
    return sandbox


@pytest.fixture()
def config(app):
    saved = dict(app.config)
    yield app.config
    app.config.clear()
    app.config.update(saved)


def close_without_settling(db, project):
    from datetime import timedelta

    close_due(now=project.deadline + timedelta(seconds=1))
    db.session.commit()
    db.session.info.clear()


@contextmanager
def killed(db):
    """The process dies here: its open transaction is gone, as after a real crash."""
    with pytest.raises(Crash):
        yield
    db.session.rollback()


def crash_once(monkeypatch, target, name):
    real = getattr(target, name)
    calls = {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise Crash(f"killed inside {name}")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, crashing)
    return calls


def rerun(db, project):
    db.session.rollback()
    status = settlement.settle(project.id)
    db.session.expire_all()
    return status


def test_crash_between_the_refunds_and_their_commit(make, db, monkeypatch, config, gateway):
    config["SETTLEMENT_CLAIM_SECONDS"] = 0  # the dead worker's claim expires at once
    project, held = reward_campaign(make, db, goal="5000", backers=3)
    close_without_settling(db, project)
    crash_once(monkeypatch, settlement_refunds, "_book_refunds")
    with killed(db):
        settlement.settle(project.id)
    assert operations(db, "refund") == 3  # the processor refunded; our books did not record it
    assert statuses(db, project) == {"held": 3}
    assert rerun(db, project) == "completed"
    assert statuses(db, project) == {"refunded": 3}
    assert operations(db, "refund") == 3  # replayed with the same keys: no second refund
    assert_ledger_ok(db)


def test_crash_after_a_batch_committed(make, db, monkeypatch, config, gateway):
    config["SETTLEMENT_BATCH_SIZE"] = 2
    project, held = reward_campaign(make, db, goal="5000", backers=5)
    close_without_settling(db, project)
    crash_once(monkeypatch, settlement.after_commit, "run_mail")  # runs right after each batch's commit
    with killed(db):
        settlement.settle(project.id)
    assert statuses(db, project) == {"refunded": 2, "held": 3}
    assert rerun(db, project) == "completed"
    assert statuses(db, project) == {"refunded": 5}
    assert operations(db, "refund") == 5
    assert_ledger_ok(db)


def test_crash_in_the_middle_of_a_release_batch(make, db, monkeypatch, gateway):
    project, held = equity_campaign(make, db, goal="100", investors=3)
    close_without_settling(db, project)
    crash_once(monkeypatch, settlement_release, "_register_shares")
    with killed(db):
        settlement.settle(project.id)
    assert statuses(db, project) == {"held": 3}  # the whole batch rolled back
    assert rerun(db, project) == "completed"
    assert statuses(db, project) == {"released": 3}
    assert operations(db, "payout") == 1
    assert_ledger_ok(db)


def test_crash_between_the_payout_and_its_commit(make, db, monkeypatch, gateway):
    from crowdfund import ledger

    project, held = reward_campaign(make, db, goal="50", backers=3)
    close_without_settling(db, project)
    crash_once(monkeypatch, ledger, "transfer")  # booking the payout is the first single transfer
    with killed(db):
        settlement.settle(project.id)
    assert operations(db, "payout") == 1
    assert settlement_of(db, project).status == "paying_out"
    assert rerun(db, project) == "completed"
    assert operations(db, "payout") == 1  # the replay returned the first payout
    assert statements.statement(project)["paid_out"] == 3 * 2375
    assert_ledger_ok(db)


@pytest.mark.parametrize("after_commit", [False, True], ids=["timeouts", "lost-replies"])
def test_a_third_of_gateway_calls_failing_still_settles_every_pledge_once(make, db, config, gateway, after_commit):
    config["SETTLEMENT_MAX_ATTEMPTS"] = 12
    config["SETTLEMENT_BATCH_SIZE"] = 4
    failing, failing_pledges = reward_campaign(make, db, goal="5000", backers=9)
    winning, winning_pledges = reward_campaign(make, db, goal="50", backers=6)
    gateway.faults.configure(rate=0.34, kinds={"refund", "payout"}, after_commit=after_commit, seed=7)
    close(db, failing)
    close(db, winning)
    assert statuses(db, failing) == {"refunded": 9}
    assert statuses(db, winning) == {"released": 6}
    assert operations(db, "refund") == 9 and operations(db, "payout") == 1
    keys = db.session.scalars(select(SandboxOperation.idempotency_key).where(SandboxOperation.kind == "refund")).all()
    assert len(keys) == len(set(keys)) == 9
    retried = db.session.scalar(select(func.count()).select_from(Pledge).where(Pledge.settlement_attempts > 0))
    assert retried > 0  # the faults really happened
    assert settlement_of(db, failing).status == settlement_of(db, winning).status == "completed"
    assert_ledger_ok(db)


def test_a_refund_that_keeps_failing_is_parked_for_an_admin(make, db, config, gateway, client, login):
    project, held = reward_campaign(make, db, goal="5000", backers=3)
    good_ref = held[1].charge_ref
    held[1].charge_ref = "ch_sbx_does_not_exist"  # the processor will refuse this one for good
    db.session.commit()
    close(db, project)
    assert statuses(db, project) == {"refunded": 2, "held": 1}
    stuck = db.session.get(Pledge, held[1].id)
    assert stuck.parked and "charge_not_found" in stuck.settlement_error
    assert settlement_of(db, project).status == "needs_attention"

    admin = login(make.admin())
    page = client.get("/admin/settlements").get_data(as_text=True)
    assert "charge_not_found" in page and f"#{stuck.id}" in page
    stuck.charge_ref = good_ref  # support fixed the cause
    db.session.commit()
    from tests.conftest import csrf_token

    response = client.post(
        f"/admin/settlements/pledges/{stuck.id}/retry", data={"csrf_token": csrf_token(client, "/admin/settlements")}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert statuses(db, project) == {"refunded": 3}
    assert settlement_of(db, project).status == "completed"
    assert admin.is_admin
    assert_ledger_ok(db)


def test_a_transient_failure_without_waiting_leaves_work_for_the_next_run(make, db, config, gateway):
    # A back-off longer than the run itself (the testing default of 10 ms could run out
    # before the run's next claim on a busy machine, and the run would then finish the job).
    config["SETTLEMENT_RETRY_BASE"] = 1.0
    project, held = reward_campaign(make, db, goal="5000", backers=2)
    close_without_settling(db, project)
    config["SETTLEMENT_RETRY_BASE"] = 60
    gateway.faults.configure(fail_next=1, kinds={"refund"})
    assert settlement.settle(project.id, wait_for_retries=False) == "running"
    assert statuses(db, project) == {"refunded": 1, "held": 1}
    waiting = db.session.scalar(select(Pledge).where(Pledge.project_id == project.id, Pledge.status == "held"))
    assert waiting.settlement_attempts == 1 and "injected" in waiting.settlement_error
    waiting.settle_after = None  # a minute later
    db.session.commit()
    assert rerun(db, project) == "completed"
    assert statuses(db, project) == {"refunded": 2}
    assert_ledger_ok(db)


def test_a_worker_whose_claim_expired_books_nothing_another_worker_booked(make, db, app, monkeypatch, config, gateway):
    config["SETTLEMENT_CLAIM_SECONDS"] = 0  # claims expire at once
    project, held = reward_campaign(make, db, goal="5000", backers=3)
    close_without_settling(db, project)
    project_id, real_refund_many = project.id, gateway.refund_many

    def slow_processor(requests):
        # While the first worker waits on the processor, its claim runs out and a second
        # worker settles the whole campaign.
        results = real_refund_many(requests)
        monkeypatch.setattr(gateway, "refund_many", real_refund_many)
        with app.app_context():
            assert settlement.settle(project_id) == "completed"
            db.session.remove()
        return results

    monkeypatch.setattr(gateway, "refund_many", slow_processor)
    assert settlement.settle(project_id) == "completed"
    db.session.expire_all()
    assert statuses(db, project) == {"refunded": 3}
    assert operations(db, "refund") == 3
    for pledge in held:  # one audit row and one mail per refund, not two
        assert [(c.from_state, c.to_state) for c in transitions.history(db.session.get(Pledge, pledge.id))] == [
            ("pending", "held"),
            ("held", "refunded"),
        ]
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dedupe_key.like("campaign_refunded:%"))
        )
        == 3
    )
    assert_ledger_ok(db)


@pytest.mark.postgres_only
@pytest.mark.parametrize("outcome", ["refund", "release"])
def test_two_workers_settling_the_same_campaign_settle_each_pledge_once(make, db, app, config, outcome):
    config["SETTLEMENT_BATCH_SIZE"] = 3
    goal = "5000" if outcome == "refund" else "50"
    project, held = reward_campaign(make, db, goal=goal, backers=20)
    close_without_settling(db, project)
    project_id = project.id
    results, barrier = [], threading.Barrier(2)

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                results.append(settlement.settle(project_id))
            except Exception as error:  # noqa: BLE001 - the assertion below shows it
                results.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert results == ["completed", "completed"] or sorted(results) == ["completed", "running"]
    rerun(db, project)
    expected = "refunded" if outcome == "refund" else "released"
    assert statuses(db, project) == {expected: 20}
    assert operations(db, "refund") == (20 if outcome == "refund" else 0)
    assert operations(db, "payout") == (1 if outcome == "release" else 0)
    assert_ledger_ok(db)
