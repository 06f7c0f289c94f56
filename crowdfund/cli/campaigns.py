"""`flask campaigns close-due`, `flask campaigns send-reminders`."""

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


@campaigns_cli.command("send-reminders")
def send_reminders_command():
    """Mail the "Remind me" reminders now due, and any goal-reached mail not sent yet (safe to repeat)."""
    from ..workflows import reminder_runs

    reminded = reminder_runs.send_due_reminders()
    announced = reminder_runs.announce_goals()
    click.echo(f"Sent {reminded} reminder(s); announced {announced} goal(s) reached.")
