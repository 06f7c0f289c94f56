"""Command-line tools: `flask users ...`, `flask seed`. Each command commits once."""
import click
from flask.cli import AppGroup

from .errors import DomainError
from .extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="Administrator")
def create_admin(email, password, name):
    """Create an admin account (or make an existing account an admin)."""
    from .services import accounts

    try:
        user = accounts.make_admin(email, password, name)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message)
    db.session.commit()
    click.echo(f"Admin ready: {user.email}")


@click.command("seed")
def seed():
    """Load the demo data (safe to run again: nothing is duplicated)."""
    from .seed import seed_demo

    summary = seed_demo()
    db.session.commit()
    click.echo(summary)


ledger_cli = AppGroup("ledger", help="Check the double-entry ledger.")


@ledger_cli.command("verify")
def ledger_verify():
    """Check every ledger invariant; exit code 1 when anything is wrong."""
    from .ledger.verify import counts, verify

    if db.engine.dialect.name == "postgresql" and not db.session().in_transaction():
        # One consistent snapshot for all the checks, even while pledges keep coming in.
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        problems = verify()
        transfers, accounts = counts()
    finally:
        db.session.rollback()
    if problems:
        click.echo(f"Ledger has {len(problems)} problem(s):")
        for problem in problems:
            click.echo(f"  - {problem}")
        raise SystemExit(1)
    click.echo(f"Ledger OK ({transfers} transfers, {accounts} accounts)")


pledges_cli = AppGroup("pledges", help="Pledge maintenance.")


@pledges_cli.command("reconcile")
@click.option("--older-than", default=None, type=int,
              help="Seconds a pledge must have been pending (default: PLEDGE_RECONCILE_AFTER).")
def pledges_reconcile(older_than):
    """Re-drive pledges left pending by a gateway failure, and retry unfinished refunds.

    Safe to run at any time and to repeat: every gateway call reuses its idempotency key.
    The service commits its own steps (a gateway call never sits inside a transaction).
    """
    from datetime import timedelta

    from flask import current_app

    from .services import pledges

    seconds = older_than if older_than is not None else current_app.config["PLEDGE_RECONCILE_AFTER"]
    summary = pledges.reconcile_pending(timedelta(seconds=seconds))
    click.echo(", ".join(f"{key}: {value}" for key, value in summary.items()))
campaigns_cli = AppGroup("campaigns", help="Campaign deadlines.")


@campaigns_cli.command("close-due")
def close_due_command():
    """Close every live campaign whose deadline has passed (safe to repeat)."""
    from .services.campaigns import close_due

    from .jobs.settlement import after_commit

    closed = close_due()
    db.session.commit()
    click.echo(f"Closed {closed} campaign(s).")
    started = after_commit()  # without a broker this settles them before returning
    if started:
        click.echo(f"Settlement started for project(s) {', '.join(map(str, started))}.")


def register_cli(app):
    from .jobs.settlement import settlement_cli

    app.cli.add_command(settlement_cli)
    from .jobs.mail import mail_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(seed)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(pledges_cli)
    app.cli.add_command(campaigns_cli)
