"""`flask seed`."""

import click

from ..extensions import db


@click.command("seed")
def seed_command():
    """Load the demo data (safe to run again: nothing is duplicated)."""
    from ..seed import seed_demo

    summary = seed_demo()
    db.session.commit()
    click.echo(summary)
