"""Scale-out: two Celery worker processes settle one campaign of 10,000 pledges between them,
each pledge exactly once.

Real processes, as in production: `celery -A crowdfund.jobs.celery_worker worker
--concurrency=1` twice, on a queue of this test's own in the local Redis (database 15),
against this run's PostgreSQL database. The 10,000 held pledges are seeded with COPY
(`bench/seed.py`), with their charges, ledger holds and totals, instead of 10,000 payments.
"""

import json
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bench import seed
from crowdfund import ledger
from crowdfund.jobs import enqueue
from crowdfund.models import Pledge, Project, SandboxOperation, Settlement, utcnow
from crowdfund.services.campaigns import close_due
from tests.support.celery_broker import REDIS_URL, send_jobs_to

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]

ROOT = Path(__file__).resolve().parents[2]
PLEDGES = 10_000


def start_worker(name, queue, database_url, tmp_path):
    env = dict(
        os.environ,
        CROWDFUND_CONFIG="testing",
        DATABASE_URL=database_url,
        PYTHONPATH=str(ROOT),
        CROWDFUND_INSTANCE_PATH=str(tmp_path / name),
        FLASK_CELERY_BROKER_URL=json.dumps(REDIS_URL),
        FLASK_CELERY_TASK_DEFAULT_QUEUE=json.dumps(queue),
        FLASK_SETTLEMENT_BATCH_SIZE="250",
    )
    log = tmp_path / f"{name}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "crowdfund.jobs.celery_worker",
                "worker",
                "--concurrency=1",
                "-Q",
                queue,
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


def wait_until(condition, timeout, what, logs=()):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            tails = "\n".join(f"--- {log.name}\n{log.read_text()[-2000:]}" for log in logs)
            raise AssertionError(f"{what} did not happen within {timeout} s\n{tails}")
        time.sleep(0.2)


def refunded_by(log):
    """Pledges this worker's batches refunded, from its log."""
    return sum(int(n) for n in re.findall(r"refunded (\d+) pledge\(s\)", log.read_text()))


def test_two_workers_settle_a_campaign_between_them_and_each_pledge_once(
    app, db, make, database_url, tmp_path, redis_queue, monkeypatch
):
    project = make.live_project(goal="1000000")  # USD; 10,000 x 25.00 stays far below the goal
    with seed.connect(database_url) as conn:
        seed.seed_held_pledges(conn, project.id, PLEDGES, amount=2500)
        conn.commit()
    db.session.expire_all()
    assert ledger.verify() == []
    db.session.commit()

    workers = [start_worker(name, redis_queue.name, database_url, tmp_path) for name in ("worker-a", "worker-b")]
    logs = [log for _, log in workers]
    try:
        wait_until(lambda: all("ready." in log.read_text() for log in logs), 60, "both workers starting", logs)

        # The deadline passes; the campaign closes as failed and its settlement is queued,
        # four times over (as several schedulers or a retried task might), to two workers.
        db.session.execute(
            update(Project).where(Project.id == project.id).values(deadline=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        assert close_due() == 1
        db.session.commit()
        send_jobs_to(monkeypatch, app, redis_queue.name)
        for _ in range(4):
            enqueue("settle_campaign", project.id)

        def completed():
            db.session.expire_all()
            status = db.session.scalar(select(Settlement.status).where(Settlement.project_id == project.id))
            db.session.commit()
            return status == "completed"

        wait_until(completed, 150, "the settlement completing", logs)
    finally:
        for process, _ in workers:
            process.terminate()
        for process, _ in workers:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    statuses = dict(
        db.session.execute(
            select(Pledge.status, func.count()).where(Pledge.project_id == project.id).group_by(Pledge.status)
        ).all()
    )
    assert statuses == {"refunded": PLEDGES}
    refunds, keys = db.session.execute(
        select(func.count(), func.count(func.distinct(SandboxOperation.idempotency_key))).where(
            SandboxOperation.kind == "refund"
        )
    ).one()
    assert (refunds, keys) == (PLEDGES, PLEDGES)  # every pledge refunded once, each under its own key
    assert ledger.verify() == []
    db.session.commit()
    by_worker = [refunded_by(log) for log in logs]
    assert all(n > 0 for n in by_worker), f"each worker should have refunded a share: {by_worker}"
    assert sum(by_worker) == PLEDGES, by_worker
