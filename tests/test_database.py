"""bulk_insert: one INSERT of arrays on PostgreSQL, an executemany elsewhere; the same rows
and the same refusals either way."""
import pytest
from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text, select
from sqlalchemy.exc import DataError

from crowdfund.database import bulk_insert
from crowdfund.models import utcnow


@pytest.fixture()
def probe(db):
    """A table of its own, so the test sees bulk_insert alone (no model, no constraint of ours)."""
    table = Table("bulk_insert_probe", MetaData(), Column("id", Integer, primary_key=True),
                  Column("code", String(8), nullable=False), Column("note", Text), Column("amount", BigInteger),
                  Column("at", DateTime(timezone=True)))
    table.create(db.engine)
    yield table
    db.session.rollback()
    table.drop(db.engine)


def rows_in(db, table):
    return [tuple(row) for row in db.session.execute(select(table.c.id, table.c.code, table.c.note, table.c.amount)
                                                     .order_by(table.c.id))]


def test_every_row_is_written(db, probe):
    bulk_insert(db.session, probe, [
        {"id": 1, "code": "EXACTLY8", "note": "x" * 10_000, "amount": 10**15, "at": utcnow()},
        {"id": 2, "code": "茶叶", "note": None, "amount": None, "at": None}])
    assert rows_in(db, probe) == [(1, "EXACTLY8", "x" * 10_000, 10**15), (2, "茶叶", None, None)]


@pytest.mark.postgres_only  # SQLite does not check a VARCHAR's length at all
def test_a_string_too_long_for_its_column_is_refused_and_nothing_is_written(db, probe):
    with pytest.raises(DataError, match="value too long for type character varying"):
        bulk_insert(db.session, probe, [{"id": 1, "code": "FITS", "note": "", "amount": 1, "at": None},
                                        {"id": 2, "code": "NINE CHRS", "note": "", "amount": 2, "at": None}])
    db.session.rollback()
    assert rows_in(db, probe) == []
