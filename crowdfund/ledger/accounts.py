"""Ledger accounts, named by key and made on first use.

Keys:
    gateway_clearing:<CUR>          money at the payment processor
    escrow:project:<id>             a campaign's escrow (in the project's currency)
    firm_payable:firm:<id>:<CUR>    released money owed to a firm, until paid out
    platform_fees:<CUR>             the platform's fees
    processor_fees:<CUR>            what the payment processor kept (its fees): the platform's
                                    cost, unless the firm bears it at release
    refunds_owed:<CUR>              refunds the processor gave back (they failed at the backer's
                                    bank): owed to those backers until a retry reaches them
    held_for_delivery:project:<id>  an on_delivery campaign's held remainders (in the project's
                                    currency), each waiting for its reward to be delivered

`get_account(key)` is safe under concurrency: the insert runs in a savepoint, and when a
concurrent transaction made the same account first (unique key), the savepoint is rolled
back and the winner's row is read instead.
"""

import re

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from ..domain.clock import utcnow
from ..domain.money import SUPPORTED_CURRENCIES
from ..extensions import db
from ..models import LedgerAccount, Project
from .errors import LedgerError

_CURRENCY = r"[A-Z]{3}"
_PATTERNS = [
    ("gateway_clearing", re.compile(rf"^gateway_clearing:(?P<currency>{_CURRENCY})$")),
    ("escrow", re.compile(r"^escrow:project:(?P<project_id>[1-9][0-9]*)$")),
    ("firm_payable", re.compile(rf"^firm_payable:firm:(?P<firm_id>[1-9][0-9]*):(?P<currency>{_CURRENCY})$")),
    ("platform_fees", re.compile(rf"^platform_fees:(?P<currency>{_CURRENCY})$")),
    ("processor_fees", re.compile(rf"^processor_fees:(?P<currency>{_CURRENCY})$")),
    ("refunds_owed", re.compile(rf"^refunds_owed:(?P<currency>{_CURRENCY})$")),
    ("held_for_delivery", re.compile(r"^held_for_delivery:project:(?P<project_id>[1-9][0-9]*)$")),
]


def clearing_key(currency):
    return f"gateway_clearing:{currency}"


def escrow_key(project_or_id):
    return f"escrow:project:{getattr(project_or_id, 'id', project_or_id)}"


def firm_payable_key(firm_or_id, currency):
    return f"firm_payable:firm:{getattr(firm_or_id, 'id', firm_or_id)}:{currency}"


def platform_fees_key(currency):
    return f"platform_fees:{currency}"


def processor_fees_key(currency):
    return f"processor_fees:{currency}"


def refunds_owed_key(currency):
    return f"refunds_owed:{currency}"


def held_for_delivery_key(project_or_id):
    return f"held_for_delivery:project:{getattr(project_or_id, 'id', project_or_id)}"


def parse_key(key):
    """(kind, columns) for a valid key, or LedgerError."""
    for kind, pattern in _PATTERNS:
        match = pattern.match(key or "")
        if match:
            columns: dict[str, str | int] = {"kind": kind}
            for name, value in match.groupdict().items():
                columns[name] = int(value) if name.endswith("_id") else value
            return columns
    raise LedgerError(f"{key!r} is not a ledger account key.")


def find_account(key):
    return db.session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))


# Every money movement runs it: built once (see services/pledges.py).
_ACCOUNTS_BY_KEY = select(LedgerAccount).where(LedgerAccount.key.in_(bindparam("keys", expanding=True)))


def get_accounts(*keys):
    """{key: account} for these keys, in one query when they all exist (made now if not)."""
    names = [k.key if isinstance(k, LedgerAccount) else k for k in keys]
    found = {a.key: a for a in db.session.scalars(_ACCOUNTS_BY_KEY, {"keys": sorted(set(names))})}
    for key in names:
        if key not in found:
            found[key] = get_account(key)
    return found


def get_account(key):
    """The account named `key`, made now if it does not exist yet."""
    if isinstance(key, LedgerAccount):
        return key
    account = find_account(key)
    if account is not None:
        return account
    columns = parse_key(key)
    if columns["kind"] in ("escrow", "held_for_delivery"):
        currency = db.session.scalar(select(Project.currency).where(Project.id == columns["project_id"]))
        if currency is None:
            raise LedgerError(f"No project {columns['project_id']} for {key}.")
        columns["currency"] = currency
    if columns["currency"] not in SUPPORTED_CURRENCIES:
        raise LedgerError(f"{columns['currency']} is not a supported currency ({key}).")
    db.session.flush()  # keep the caller's pending changes out of the savepoint below
    try:
        with db.session.begin_nested():
            db.session.execute(insert(LedgerAccount).values(key=key, created_at=utcnow(), **columns))
    except IntegrityError:
        pass  # a concurrent transaction made it first; read theirs
    account = find_account(key)
    if account is None:  # pragma: no cover - the insert failed for another reason
        raise LedgerError(f"Could not create ledger account {key}.")
    return account
