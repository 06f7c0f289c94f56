"""`flask pledges reconcile`."""

from datetime import timedelta

import click
from flask.cli import AppGroup

pledges_cli = AppGroup("pledges", help="Pledge maintenance.")


@pledges_cli.command("reconcile")
@click.option(
    "--older-than",
    default=None,
    type=int,
    help="Seconds a pledge must have been open (default: PLEDGE_RECONCILE_AFTER).",
)
def pledges_reconcile(older_than):
    """Finish pledges an outage, a lost webhook or an abandoned payment left open, and
    retry unfinished refunds.

    Safe to run at any time and to repeat: it asks the processor what became of each
    payment and never makes a second charge. Pledges still waiting for the backer after
    PLEDGE_ACTION_TIMEOUT are cancelled at the processor and their units released.
    """
    from .. import after_commit
    from ..workflows import reconcile

    summary = reconcile.reconcile_pending(timedelta(seconds=older_than) if older_than is not None else None)
    after_commit.run()  # the receipts and notices it queued
    click.echo(", ".join(f"{key}: {value}" for key, value in summary.items()))


@pledges_cli.command("expire-reconfirmations")
def pledges_expire_reconfirmations():
    """Cancel and refund equity commitments not reconfirmed in time after a material change to
    their offering, and mail their investors.

    Safe to run at any time and to repeat: a commitment is cancelled once, and a refund the
    processor did not confirm is left for `flask pledges reconcile`. Closing runs it first too.
    """
    from .. import after_commit
    from ..workflows import reconfirmation

    summary = reconfirmation.expire_due()
    after_commit.run()  # the investors' mail
    click.echo(", ".join(f"{key}: {value}" for key, value in summary.items()))
