"""Where a campaign's end meets settlement.

`campaign_closed(project)` is called inside the closing transaction, after the project
has left `live` and `closed_at` is set, for every way a live campaign ends:
`successful` / `failed` (at the deadline, `campaigns.close_due`), `cancelled` (the
founder) and `suspended` (an admin). It only writes the `Settlement` row; the settlement
job starts after the commit (`jobs.settlement.kick_settlements`), since no payment call
may happen while a transaction is open.
"""
from .settlement import open_settlement


def campaign_closed(project):
    return open_settlement(project)
