"""Ledger errors. These are programming errors (a caller asked for something that would
break double entry), not refusals a person can fix, so they are not DomainErrors."""


class LedgerError(Exception):
    """A transfer that would break the ledger's rules; nothing was written."""


class TransferConflict(LedgerError):
    """A transfer id was replayed with different parameters."""
