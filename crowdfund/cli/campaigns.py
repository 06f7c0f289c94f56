"""`flask campaigns close-due`."""

import click
from flask.cli import AppGroup

campaigns_cli = AppGroup("campaigns", help="Campaign deadlines.")


@campaigns_cli.command("close-due")
def close_due_command():
    """Close every live campaign whose deadline has passed (safe to repeat)."""
    from ..workflows.closing import close_and_settle

    run = close_and_settle()  # without a broker this settles them before returning
    click.echo(f"Closed {run.closed} campaign(s).")
    if run.settling:
        click.echo(f"Settlement started for project(s) {', '.join(map(str, run.settling))}.")
