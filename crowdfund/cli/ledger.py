"""`flask ledger verify`."""

import click
from flask.cli import AppGroup

from ..database import read_snapshot
from ..extensions import db

ledger_cli = AppGroup("ledger", help="Check the double-entry ledger.")


@ledger_cli.command("verify")
def ledger_verify():
    """Check every ledger invariant; exit code 1 when anything is wrong."""
    from ..ledger.verify import counts, verify

    with read_snapshot(db.session):
        problems = verify()
        transfers, accounts = counts()
    if problems:
        click.echo(f"Ledger has {len(problems)} problem(s):")
        for problem in problems:
            click.echo(f"  - {problem}")
        raise SystemExit(1)
    click.echo(f"Ledger OK ({transfers} transfers, {accounts} accounts)")


@ledger_cli.command("reconcile")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Only the processor's records and our pledges from this UTC date or time on.",
)
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="... and before this one.",
)
def ledger_reconcile(since, until):
    """Compare the ledger with the payment processor's own records; exit code 1 on any difference."""
    from ..jobs.reconcile_books import compare_with_processor

    problems, records = compare_with_processor(since=since, until=until)
    if problems:
        click.echo(f"{len(problems)} difference(s) with the processor:")
        for problem in problems:
            click.echo(f"  - {problem}")
        raise SystemExit(1)
    click.echo(f"Ledger agrees with the processor ({records} records compared)")
