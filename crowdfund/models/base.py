"""Column types and helpers shared by every model."""

from datetime import timezone

from sqlalchemy import DDL, BigInteger, DateTime, Index, Integer, event
from sqlalchemy.types import TypeDecorator

from ..domain.clock import utcnow  # noqa: F401  (for the model modules' column defaults)
from ..extensions import db  # re-exported for model modules


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so values are
    stored as naive UTC and given their tzinfo back on the way out. Naive input
    is refused: every time in the platform is explicit about being UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# Money is integer minor units. BIGINT on PostgreSQL; SQLite integers are 64-bit
# already, and a plain INTEGER keeps its rowid behaviour for primary keys.
Money = BigInteger().with_variant(Integer(), "sqlite")
BigId = BigInteger().with_variant(Integer(), "sqlite")


# The extensions the schema needs on PostgreSQL: `create_all` makes them before the tables,
# and the migration begins with them (see migrations/env.py). SQLite needs none.
POSTGRESQL_EXTENSIONS = ("pg_trgm",)
for _name in POSTGRESQL_EXTENSIONS:
    event.listen(
        db.metadata, "before_create", DDL(f"CREATE EXTENSION IF NOT EXISTS {_name}").execute_if(dialect="postgresql")
    )


def trigram_indexes(table, *columns):
    """One index per column for `ILIKE '%words%'` searches: a pg_trgm GIN index on PostgreSQL
    (substring matches of 3+ characters come from the index), a plain one on SQLite."""
    return [
        Index(f"ix_{table}_{column}_trgm", column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})
        for column in columns
    ]
