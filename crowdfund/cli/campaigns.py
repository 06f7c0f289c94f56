"""`flask campaigns close-due`."""
import click
from flask.cli import AppGroup

from ..extensions import db

campaigns_cli = AppGroup("campaigns", help="Campaign deadlines.")


@campaigns_cli.command("close-due")
def close_due_command():
    """Close every live campaign whose deadline has passed (safe to repeat)."""
    from ..jobs.settlement import after_commit
    from ..services.campaigns import close_due

    closed = close_due()
    db.session.commit()
    click.echo(f"Closed {closed} campaign(s).")
    started = after_commit()  # without a broker this settles them before returning
    if started:
        click.echo(f"Settlement started for project(s) {', '.join(map(str, started))}.")
