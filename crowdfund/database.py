"""Engine set-up that differs between SQLite (embedded default) and PostgreSQL."""

import logging
import select
import time
from contextlib import contextmanager
from functools import cache

from sqlalchemy import Enum, String, event, exc, inspect
from sqlalchemy.orm.attributes import set_committed_value

log = logging.getLogger(__name__)


def configure_engine(engine, *, ping_after_idle=None):
    """`ping_after_idle`: seconds a pooled connection may sit unused before it is tested on
    checkout (see `_ping_idle_connections`); None tests none."""
    if ping_after_idle is not None:
        _ping_idle_connections(engine, ping_after_idle)
    if engine.dialect.name == "postgresql":
        _send_lists_in_binary(engine)
        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin, so that
        # SAVEPOINTs (used by every service) work as documented.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database and engine.url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN")


def _ping_idle_connections(engine, seconds):
    """SQLAlchemy's `pool_pre_ping`, for connections that were idle in the pool `seconds` or more,
    and for any the server has hung up on since it was handed back.

    A connection goes stale while it sits unused: the server restarted, a firewall dropped
    it. Pinging every checkout also pings the connection a request handed back a moment ago,
    and a pledge checks one out several times (its steps commit on their own): an extra round
    trip each time, a visible share of a web worker's time under load. A server that ends a
    connection (a failover, a restart, `pg_terminate_backend`) says so on its socket first, so
    a recently used connection is pinged only when its socket has something to read while
    it sat idle (`_hung_up`: a poll of the socket, no round trip). A dead connection found
    here is replaced, and the pool's older connections with it, before anyone uses it.
    """
    hung_up = _hung_up if engine.dialect.name == "postgresql" else None

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record):
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None:
            return  # new
        if time.monotonic() - idle_since < seconds and not (hung_up and hung_up(dbapi_connection)):
            return  # just handed back, and the server has said nothing since
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error  # the pool reconnects and tries again
            raise


def _hung_up(dbapi_connection):
    """Has the server written to this idle connection (psycopg)? An idle connection is sent
    nothing unless the server is ending it ("terminating connection due to administrator
    command", a shutdown), so anything to read means: ping it before use."""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.pgconn.socket, select.POLLIN)
        return bool(poller.poll(0))
    except Exception:  # noqa: BLE001 - no socket to poll (closed): the ping will tell
        return True


def once_more_if_disconnected(session, step, *args, **kwargs):
    """`step(*args, **kwargs)`; if the database connection dropped under it (a failover, a
    restart), roll `session` back and run it once more, on a new connection.

    Only for a step that commits or rolls back on its own and is safe to repeat: one whose
    failed run left nothing behind, and whose second run, when only the answer to its
    COMMIT was lost, finds what the first committed (an idempotency key, a status check
    under a row lock). A second drop is raised to the caller."""
    try:
        return step(*args, **kwargs)
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        log.warning(
            "%s: the database connection dropped (%s); running it once more",
            getattr(step, "__name__", step),
            error.orig,
        )
    session.rollback()
    return step(*args, **kwargs)


def _send_lists_in_binary(engine):
    """Send list parameters (the arrays of `one_of` and `bulk_insert`) in binary.

    In text form psycopg quotes and escapes every element in Python; for the arrays of a
    settlement batch (500 keys, or 500 mail bodies) that cost more than running the
    statements. In binary each element is just packed. Only the wire format changes: the
    statements cast their arrays to the types they need either way.
    """
    from psycopg.types.array import ListBinaryDumper

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


def one_of(column, values, dialect_name=None):
    """`column IN (values)`, written as `column = ANY(:array)` on PostgreSQL.

    One bound parameter however many values: the statement text stays short and the
    same, so the driver parses it once and caches it. (An IN list of 500 bound parameters
    is a new, long statement for psycopg to parse on every execution; in a settlement
    batch that parsing cost more than the queries themselves.) `dialect_name` defaults to
    the session's database.
    """
    from sqlalchemy import BigInteger, String, any_, bindparam
    from sqlalchemy.dialects.postgresql import ARRAY
    from sqlalchemy.types import Integer

    from .extensions import db

    values = list(values)
    if (dialect_name or db.session.get_bind().dialect.name) != "postgresql":
        return column.in_(values)
    element = BigInteger() if isinstance(column.type, Integer) else String()
    return column == any_(bindparam(None, values, type_=ARRAY(element)))


def in_subquery(column, subquery):
    """`column IN (subquery)`, written as `column = ANY(ARRAY(subquery))` on PostgreSQL.

    The same rows; but PostgreSQL cannot use an index for an `IN (subquery)` that is one
    branch of an OR, and scans the whole table, while `= ANY(ARRAY(...))` runs the subquery
    once and looks its values up in the column's index, beside the other branches' indexes.
    """
    from sqlalchemy import any_, func

    from .extensions import db

    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(subquery)
    return column == any_(func.array(subquery.scalar_subquery()))


def bulk_insert(connection, table, rows):
    """INSERT `rows` (dicts with the same keys) into `table`, as few statements as possible.

    On PostgreSQL: ONE statement, `INSERT ... SELECT * FROM unnest(:col1[], :col2[], ...)`,
    with one array parameter per column. Its text is short and always the same (parsed once
    and cached by the driver), and the server plans and runs it once for the batch; an
    executemany is one INSERT per row (pipelined), and a multi-row VALUES list is a new
    statement with a parameter per value to parse every time. Elsewhere: executemany.
    `connection` is a Session or a Connection. Not for JSON columns (use executemany).
    """
    from sqlalchemy import insert, text

    rows = list(rows)
    if not rows:
        return
    dialect = connection.get_bind().dialect if hasattr(connection, "get_bind") else connection.dialect
    if dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    # Values reach the driver as they are (no SQLAlchemy type processing): times must be
    # aware datetimes, as everywhere in the platform.
    names = list(rows[0])
    arrays = ", ".join(f"CAST(:c{i} AS {_element_type(table.c[name].type, dialect)}[])" for i, name in enumerate(names))
    statement = text(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})")
    connection.execute(statement, {f"c{i}": [row[name] for row in rows] for i, name in enumerate(names)})


def _element_type(column_type, dialect):
    """The type `bulk_insert` casts a column's array to: the column's own, except that
    strings are TEXT. An explicit cast to VARCHAR(n) silently cuts a longer string to n
    characters; storing TEXT into the column checks its length and raises, as an INSERT of
    the value itself would."""
    if isinstance(column_type, String) and not isinstance(column_type, Enum):
        return "TEXT"
    return column_type.compile(dialect=dialect)


def insert_new(target, unique_column, dialect_name=None):
    """`INSERT ... ON CONFLICT (unique_column) DO NOTHING` in this database's dialect.

    One statement instead of "look, then insert in a savepoint": a row that already exists
    (a replay, or the loser of a race once the winner commits) is skipped, and RETURNING
    gives nothing back, so the caller knows it wrote nothing. `dialect_name` defaults to the
    session's database.
    """
    from .extensions import db

    if (dialect_name or db.session.get_bind().dialect.name) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(target).on_conflict_do_nothing(index_elements=[unique_column])


def insert_new_returning(target, unique_column, *returning, dialect_name=None):
    """`insert_new(...).returning(*returning)`, built once per database kind and then reused.

    For hot paths: pass the row as parameters (`execute(statement, [row])`), not `.values()`,
    so that SQLAlchemy does not build the statement and its cache key again on every call."""
    from .extensions import db

    return _insert_new_returning(target, unique_column, dialect_name or db.session.get_bind().dialect.name, returning)


@cache
def _insert_new_returning(target, unique_column, dialect_name, returning):
    return insert_new(target, unique_column, dialect_name).returning(*returning)


def commit_keeping(session, *objects):
    """Commit, keeping the column values of `objects` loaded as this transaction left them.

    A commit expires every loaded object, so reading an attribute afterwards costs a SELECT.
    Use this only for rows the transaction held locked to the end (what it wrote is what
    the database holds at the commit); relationships are still loaded afresh."""
    kept = [(obj, {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs}) for obj in objects]
    session.commit()
    for obj, values in kept:
        for key, value in values.items():
            set_committed_value(obj, key, value)


@contextmanager
def read_snapshot(session):
    """Read in one consistent snapshot (PostgreSQL: REPEATABLE READ), even while pledges keep
    coming in, then roll back: for checks that read the whole books (ledger verify, reconcile)."""
    if session.get_bind().dialect.name == "postgresql" and not session().in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        yield
    finally:
        session.rollback()
