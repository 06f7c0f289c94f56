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


campaigns_cli = AppGroup("campaigns", help="Campaign deadlines.")


@campaigns_cli.command("close-due")
def close_due_command():
    """Close every live campaign whose deadline has passed (safe to repeat)."""
    from .services.campaigns import close_due

    closed = close_due()
    db.session.commit()
    click.echo(f"Closed {closed} campaign(s).")


def register_cli(app):
    app.cli.add_command(users_cli)
    app.cli.add_command(seed)
    app.cli.add_command(campaigns_cli)
