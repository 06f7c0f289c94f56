"""Command-line tools, one module per feature: `flask users ...`, `flask seed`, `flask ledger ...`,
`flask pledges ...`, `flask campaigns ...`. Each command commits once. The `mail` and
`settlement` groups live with their jobs (crowdfund/jobs)."""

from .campaigns import campaigns_cli
from .ledger import ledger_cli
from .pledges import pledges_cli
from .seed import seed_command
from .users import users_cli


def register_cli(app):
    from ..jobs.deliveries import deliveries_cli
    from ..jobs.mail import mail_cli
    from ..jobs.settlement import settlement_cli

    for command in (users_cli, seed_command, ledger_cli, pledges_cli, campaigns_cli, mail_cli, settlement_cli):
        app.cli.add_command(command)
    app.cli.add_command(deliveries_cli)
