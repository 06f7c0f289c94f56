"""Transfers: append-only, positive, one currency, idempotent by the caller's id.

A transfer id is chosen by the caller from its own ids ("pledge:42:hold"). Replaying an
id with the same parameters returns the first row and writes nothing; replaying it with
different parameters raises TransferConflict. Two transactions racing with the same id
end with one row: `transfer` inserts with ON CONFLICT (id) DO NOTHING, so the loser waits
for the winner's commit, writes nothing and compares against the winner's row;
`transfer_many`'s insert fails on the primary key inside a savepoint, and it reads (and
compares against) the winner's rows.
"""

from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..database import bulk_insert, insert_new_returning, one_of
from ..domain.clock import utcnow
from ..domain.money import max_minor
from ..extensions import db
from ..models import LedgerAccount, LedgerTransfer
from .accounts import find_account, get_account, get_accounts
from .errors import LedgerError, TransferConflict

# Rows per INSERT statement in transfer_many (keeps under every driver's parameter limit).
BATCH_ROWS = 1000
_COMPARED = ("debit_account_id", "credit_account_id", "amount", "currency", "code", "pledge_id", "settlement_id")


@dataclass(frozen=True)
class Transfer:
    """One transfer to write with `transfer_many`. `debit`/`credit` are account keys."""

    id: str
    debit: str
    credit: str
    amount: int
    currency: str
    code: str
    pledge_id: int | None = None
    settlement_id: int | None = None


class BatchResult(NamedTuple):
    created: int
    replayed: int


def _row(t, accounts):
    """Validate one transfer and return its column values."""
    if not isinstance(t.id, str) or not t.id or len(t.id) > 100:
        raise LedgerError(f"Transfer id {t.id!r} must be a non-empty string of at most 100 characters.")
    if type(t.amount) is not int or t.amount <= 0:
        raise LedgerError(
            f"Transfer {t.id}: the amount must be a positive whole number of minor units, not {t.amount!r}."
        )
    if not t.code or len(t.code) > 30:
        raise LedgerError(f"Transfer {t.id}: a code of at most 30 characters is required.")
    debit, credit = accounts[t.debit], accounts[t.credit]
    if debit.id == credit.id:
        raise LedgerError(f"Transfer {t.id}: debit and credit are the same account ({debit.key}).")
    for account in (debit, credit):
        if account.currency != t.currency:
            raise LedgerError(f"Transfer {t.id} is in {t.currency} but account {account.key} is in {account.currency}.")
    if t.amount > max_minor(t.currency):
        raise LedgerError(f"Transfer {t.id}: {t.amount} {t.currency} is beyond any plausible amount.")
    return {
        "id": t.id,
        "debit_account_id": debit.id,
        "credit_account_id": credit.id,
        "amount": t.amount,
        "currency": t.currency,
        "code": t.code,
        "pledge_id": t.pledge_id,
        "settlement_id": t.settlement_id,
    }


def _same(existing, row):
    for key in _COMPARED:
        value = existing[key] if isinstance(existing, dict) else getattr(existing, key)
        if value != row[key]:
            raise TransferConflict(
                f"Transfer {row['id']} already exists with a different {key} ({value!r}, not {row[key]!r})."
            )


def _key(account):
    return account.key if isinstance(account, LedgerAccount) else account


def transfer(id, debit, credit, amount, currency, code, pledge_id=None, settlement_id=None):
    """Move `amount` minor units from `debit` to `credit` (account keys). Returns the row.

    Idempotent: the same id with the same parameters returns the first row.
    """
    t = Transfer(id, _key(debit), _key(credit), amount, currency, code, pledge_id, settlement_id)
    accounts = get_accounts(t.debit, t.credit)
    row = _row(t, accounts)
    # One statement: INSERT ... ON CONFLICT (id) DO NOTHING RETURNING the row. A replay (or
    # the loser of a race, once the winner has committed) gets no row back and compares
    # against the first one instead; no savepoint, no read before or after.
    created = db.session.scalars(
        insert_new_returning(LedgerTransfer, "id", LedgerTransfer), [dict(row, created_at=utcnow())]
    ).first()
    if created is not None:
        return created
    existing = db.session.get(LedgerTransfer, id, populate_existing=True)
    if existing is None:  # pragma: no cover - ON CONFLICT only skips rows that exist
        raise LedgerError(f"Transfer {id} was neither written nor found.")
    _same(existing, row)
    return existing


def transfer_set(*many):
    """`transfer` for a few `Transfer`s written together (a hold and its processor fee): one
    account lookup and one INSERT ... ON CONFLICT DO NOTHING for all of them. Returns the rows."""
    accounts = get_accounts(*{k for t in many for k in (t.debit, t.credit)})
    rows = [_row(t, accounts) for t in many]
    now = utcnow()
    created = {
        row.id: row
        for row in db.session.scalars(
            insert_new_returning(LedgerTransfer, "id", LedgerTransfer), [dict(row, created_at=now) for row in rows]
        )
    }
    result = []
    for row in rows:
        if row["id"] not in created:  # a replay: it must be the same transfer
            existing = db.session.get(LedgerTransfer, row["id"], populate_existing=True)
            if existing is None:  # pragma: no cover - ON CONFLICT only skips rows that exist
                raise LedgerError(f"Transfer {row['id']} was neither written nor found.")
            _same(existing, row)
            created[row["id"]] = existing
        result.append(created[row["id"]])
    return result


def transfer_many(transfers):
    """Write a batch of `Transfer`s (a settlement run) with one INSERT per BATCH_ROWS rows.

    Same guarantees as `transfer`: every row is validated before anything is written;
    ids already present (or repeated inside the batch) must carry the same parameters and
    are not written again; a racing transaction that wrote some of the ids first makes
    this one read and compare them instead.
    """
    transfers = list(transfers)
    if not transfers:
        return BatchResult(0, 0)
    keys = {k for t in transfers for k in (t.debit, t.credit)}
    accounts = {key: get_account(key) for key in sorted(keys)}
    rows: dict[str, dict] = {}
    for t in transfers:
        row = _row(t, accounts)
        if row["id"] in rows:
            _same(rows[row["id"]], row)
        else:
            rows[row["id"]] = row
    db.session.flush()
    for _attempt in range(3):
        existing = _existing(list(rows))
        for row_id, old in existing.items():
            _same(old, rows[row_id])
        new = [dict(row, created_at=utcnow()) for row_id, row in rows.items() if row_id not in existing]
        try:
            with db.session.begin_nested():
                # One INSERT ... SELECT FROM unnest(arrays) per chunk on PostgreSQL (executemany
                # elsewhere). `.values(rows)` used to compile, and cache, a new statement with 9
                # parameters per row for every distinct batch size: slow, and the compiled
                # statements piled up in memory through a long settlement.
                for start in range(0, len(new), BATCH_ROWS):
                    bulk_insert(db.session, LedgerTransfer.__table__, new[start : start + BATCH_ROWS])
        except IntegrityError:
            continue  # a concurrent writer got some ids first: compare against theirs and retry
        return BatchResult(created=len(new), replayed=len(transfers) - len(new))
    raise LedgerError("Could not write the transfer batch: its ids keep clashing with concurrent writers.")


def _existing(ids):
    found = {}
    table = LedgerTransfer.__table__
    for start in range(0, len(ids), BATCH_ROWS):
        chunk = ids[start : start + BATCH_ROWS]
        for row in db.session.execute(select(table).where(one_of(table.c.id, chunk))).mappings():
            found[row["id"]] = dict(row)
    return found


def balance(account_key):
    """Credits minus debits of an account, in its minor units (0 if it does not exist)."""
    account = find_account(_key(account_key))
    if account is None:
        return 0
    credits = (
        select(func.coalesce(func.sum(LedgerTransfer.amount), 0))
        .where(LedgerTransfer.credit_account_id == account.id)
        .scalar_subquery()
    )
    debits = (
        select(func.coalesce(func.sum(LedgerTransfer.amount), 0))
        .where(LedgerTransfer.debit_account_id == account.id)
        .scalar_subquery()
    )
    return int(db.session.execute(select(credits - debits)).scalar_one())
