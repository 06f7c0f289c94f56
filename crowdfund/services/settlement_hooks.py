"""Where a campaign's end meets settlement (a placeholder: the settlement work fills it in).

`campaign_closed(project)` is called inside the closing transaction, after the project
has left `live` and `closed_at` is set, for every way a live campaign ends:
`successful` / `failed` (at the deadline, `campaigns.close_due`), `cancelled` (the
founder) and `suspended` (an admin). `project.status` says which; success releases the
escrow to the firm, every other outcome returns the held pledges.

It must only write database rows (e.g. a `Settlement` to be worked off later): it runs
inside a transaction, and no payment call may happen while one is open.
"""


def campaign_closed(project):
    """A live campaign has just ended (see the module docstring). Nothing to do yet."""
    return None
