"""`flask users create-admin`."""

import click
from flask.cli import AppGroup

from ..errors import DomainError
from ..extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="Administrator")
def create_admin(email, password, name):
    """Create an admin account (or make an existing account an admin)."""
    from ..services import accounts

    try:
        user = accounts.make_admin(email, password, name)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Admin ready: {user.email}")
