"""Column types and helpers shared by every model."""
from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.types import TypeDecorator

from ..extensions import db  # noqa: F401  (re-exported for model modules)


def utcnow():
    return datetime.now(timezone.utc)


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
