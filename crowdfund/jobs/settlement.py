"""Jobs that close campaigns at their deadline and settle them, and the after-commit
handlers that start a settlement or a refund retry (registered by `jobs.init_app`)."""

import logging
from datetime import datetime

import click
from flask.cli import AppGroup

from ..workflows import closing, refund_failures, settlement
from . import enqueue, job

log = logging.getLogger(__name__)


@job("settle_campaign")
def settle_campaign(project_id, now=None):
    """`now` (ISO 8601, tests and `resume(now=...)`): the moment a payout's dates are compared with."""
    return settlement.settle(project_id, now=datetime.fromisoformat(now) if now else None)


@job("retry_refund")
def retry_refund(pledge_id):
    return refund_failures.retry(pledge_id)


@job("resume_settlements")
def resume_settlements():
    """Hourly (PERIODIC): what `flask settlement resume` does."""
    return resume()


@job("close_due_campaigns")
def close_due_campaigns():
    run = closing.close_and_settle()
    return {"closed": run.closed, "settlements": run.settling}


def resume(now=None):
    """Start every settlement that is unfinished or whose waiting payout is due, and every
    failed refund an admin sent back that has not gone out yet. Returns what it started."""
    project_ids = settlement.due_for_a_run(now)
    for project_id in project_ids:
        enqueue("settle_campaign", project_id, **({"now": now.isoformat()} if now else {}))
    pledge_ids = refund_failures.waiting_for_retry()
    for pledge_id in pledge_ids:
        enqueue("retry_refund", pledge_id)
    return {"settlements": len(project_ids), "refunds": len(pledge_ids)}


def start_settlements(project_ids):
    """After a commit that closed campaigns (or handed a settlement work again): start their
    settlements. Without a broker each runs here, to the end, before this returns (so
    `flask campaigns close-due` has settled what it closed); with Celery it is queued. Never
    raises: a settlement not started now is picked up by `flask settlement resume`."""
    for project_id in project_ids:
        try:
            enqueue("settle_campaign", project_id)
        except Exception:
            log.exception("settlement of project %s could not be started; `flask settlement resume` will", project_id)


def start_refund_retries(pledge_ids):
    """After a commit in which an admin sent failed refunds back: retry them."""
    for pledge_id in pledge_ids:
        try:
            enqueue("retry_refund", pledge_id)
        except Exception:
            log.exception("the refund of pledge %s could not be retried now; `flask settlement resume` will", pledge_id)


settlement_cli = AppGroup("settlement", help="Settle closed campaigns.")


@settlement_cli.command("run")
@click.argument("project_id", type=int)
def run_command(project_id):
    """Settle one closed campaign now (safe to repeat)."""
    click.echo(f"Project {project_id}: settlement {settlement.settle(project_id)}.")


@settlement_cli.command("resume")
def resume_command():
    """Start every settlement not completed (after a crash, parked work retried, or a payout come due)."""
    started = resume()
    click.echo(f"Resumed {started['settlements']} settlement(s) and {started['refunds']} failed refund(s).")
