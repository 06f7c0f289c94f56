"""`flask pledges reconcile`."""
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

pledges_cli = AppGroup("pledges", help="Pledge maintenance.")


@pledges_cli.command("reconcile")
@click.option("--older-than", default=None, type=int,
              help="Seconds a pledge must have been pending (default: PLEDGE_RECONCILE_AFTER).")
def pledges_reconcile(older_than):
    """Re-drive pledges left pending by a gateway failure, and retry unfinished refunds.

    Safe to run at any time and to repeat: every gateway call reuses its idempotency key.
    The service commits its own steps (a gateway call never sits inside a transaction).
    """
    from ..services import pledges

    seconds = older_than if older_than is not None else current_app.config["PLEDGE_RECONCILE_AFTER"]
    summary = pledges.reconcile_pending(timedelta(seconds=seconds))
    click.echo(", ".join(f"{key}: {value}" for key, value in summary.items()))
