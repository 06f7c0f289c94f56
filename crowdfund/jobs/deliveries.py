"""Release on delivery's jobs (crowdfund/workflows/delivery_release.py): the periodic sweep
(receipt timeouts, late rewards, refunds, the daily payouts of released remainders), the
sweep that sends refunds an admin just asked for, and `flask deliveries sweep`."""

from datetime import datetime

import click
from flask.cli import AppGroup

from .. import after_commit
from ..workflows import delivery_release
from . import job


@job("sweep_deliveries")
def sweep_deliveries(now=None):
    """`now` (ISO 8601, tests and the CLI's --now): the moment deadlines are compared with."""
    done = delivery_release.sweep(datetime.fromisoformat(now) if now else None)
    after_commit.run()
    return done


@job("refund_deliveries", sweep=True)
def refund_deliveries():
    """After an admin's refund decision commits: send the refunds (and any due)."""
    booked = delivery_release.refund_waiting()
    after_commit.run()
    return {"refunded": booked}


deliveries_cli = AppGroup("deliveries", help="Release on delivery: timeouts, late rewards, refunds, payouts.")


@deliveries_cli.command("sweep")
@click.option("--now", default=None, help="Compare deadlines with this moment (ISO 8601, UTC) instead of the clock.")
def sweep_command(now):
    """Release timed-out shipments, flag late rewards, send refunds and due payouts (safe to repeat)."""
    done = sweep_deliveries(now)
    click.echo(", ".join(f"{key}: {value}" for key, value in done.items()))
