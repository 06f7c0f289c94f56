"""Jobs that close campaigns at their deadline and settle them."""
import logging

import click
from flask.cli import AppGroup

from ..extensions import db
from ..services import settlement
from . import enqueue, forget_sweeps, job, start_sweeps_after_commit

log = logging.getLogger(__name__)


@job("settle_campaign")
def settle_campaign(project_id):
    return settlement.settle(project_id)


@job("close_due_campaigns")
def close_due_campaigns():
    from ..services.campaigns import close_due

    closed = close_due()
    db.session.commit()
    started = after_commit()
    return {"closed": closed, "settlements": started}


def kick_settlements(session=None):
    """After a commit: start the settlement of every campaign that transaction closed.

    Without a broker the settlement runs here, to the end, before this returns (so
    `flask campaigns close-due` has settled what it closed); with Celery it is queued.
    Never raises: a settlement not started now is picked up by `flask settlement resume`.
    """
    session = session or db.session
    project_ids = sorted(session.info.pop(settlement.PENDING_KEY, set()))
    for project_id in project_ids:
        try:
            enqueue("settle_campaign", project_id)
        except Exception:
            log.exception("settlement of project %s could not be started; `flask settlement resume` will", project_id)
    return project_ids


def forget_settlements(session=None):
    (session or db.session).info.pop(settlement.PENDING_KEY, None)


def after_commit(session=None):
    """Everything that waits for a commit: mail delivery, sweeps asked for, and settlements."""
    from .mail import deliver_queued_mail

    deliver_queued_mail(session)
    start_sweeps_after_commit(session or db.session)
    return kick_settlements(session)


def after_rollback(session=None):
    from .mail import forget_queued_mail

    forget_queued_mail(session)
    forget_sweeps(session or db.session)
    forget_settlements(session)


settlement_cli = AppGroup("settlement", help="Settle closed campaigns.")


@settlement_cli.command("run")
@click.argument("project_id", type=int)
def run_command(project_id):
    """Settle one closed campaign now (safe to repeat)."""
    click.echo(f"Project {project_id}: settlement {settlement.settle(project_id)}.")


@settlement_cli.command("resume")
def resume_command():
    """Start every settlement that is not completed (after a crash, or parked work retried)."""
    from sqlalchemy import select

    from ..models import Settlement

    unfinished = db.session.scalars(select(Settlement.project_id).where(
        Settlement.status.in_(["pending", "running", "paying_out"])).order_by(Settlement.id)).all()
    db.session.commit()
    for project_id in unfinished:
        enqueue("settle_campaign", project_id)
    click.echo(f"Resumed {len(unfinished)} settlement(s).")
