"""Closing at the deadline is one pipeline (workflows/closing.py): the command line, the
in-process scheduler and Celery beat's job each close a failed campaign and refund it whole."""

import pytest

from crowdfund.jobs import enqueue, scheduler
from tests.support.settlement import assert_ledger_ok, reward_campaign, settlement_of, statuses


def close_by(entry, app, project_id):
    if entry == "command line":
        result = app.test_cli_runner().invoke(args=["campaigns", "close-due"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [
            "Closed 1 campaign(s).",
            f"Settlement started for project(s) {project_id}.",
        ]
    elif entry == "scheduler":
        scheduler.DeadlineScheduler(app).run_once()  # not started: one run by hand
    else:
        assert enqueue("close_due_campaigns") == {"closed": 1, "settlements": [project_id]}


@pytest.mark.parametrize("entry", ["command line", "scheduler", "celery beat"])
def test_each_way_of_closing_refunds_a_failed_campaign_once(make, db, app, entry):
    project, held = reward_campaign(make, db, goal="5000", backers=2)
    project.deadline = project.deadline.replace(year=2000)  # long past
    db.session.commit()

    close_by(entry, app, project.id)

    db.session.rollback()  # a fresh look: the scheduler and the job commit in sessions of their own
    assert project.status == "failed"
    assert statuses(db, project) == {"refunded": 2}
    assert settlement_of(db, project).status == "completed"
    assert_ledger_ok(db)
    # Run again: nothing is due, nothing is refunded twice.
    assert enqueue("close_due_campaigns") == {"closed": 0, "settlements": []}
    db.session.rollback()
    assert statuses(db, project) == {"refunded": 2}
    assert_ledger_ok(db)
