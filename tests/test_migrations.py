"""The Alembic migrations build exactly the schema the models describe, on both databases."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import Column, MetaData, String, create_engine, inspect, text

from crowdfund import create_app
from crowdfund.extensions import db
from tests.conftest import backend, new_database, postgres_available


def migrated(url, tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


def pending_operations(url, metadata):
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, metadata)
    engine.dispose()
    return diffs


def test_migrations_match_the_models(tmp_path):
    with new_database(backend(), tmp_path) as url:
        migrated(url, tmp_path)
        assert pending_operations(url, db.metadata) == []


def test_the_check_notices_a_model_change_without_a_migration(tmp_path):
    changed = MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["users"].append_column(Column("nickname", String(40)))
    with new_database(backend(), tmp_path) as url:
        migrated(url, tmp_path)
        diffs = pending_operations(url, changed)
    assert any(d[0] == "add_column" and d[3].name == "nickname" for d in diffs)


def describe(url):
    """Tables, columns (generic type, nullability), unique constraints and indexes."""
    engine = create_engine(url)
    inspector = inspect(engine)
    shape = {}
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        columns = {c["name"]: (c["type"]._type_affinity.__name__, c["nullable"]) for c in inspector.get_columns(table)}
        uniques = sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table))
        indexes = sorted(
            (tuple(i["column_names"]), bool(i["unique"]))
            for i in inspector.get_indexes(table)
            if not i.get("duplicates_constraint")
        )
        shape[table] = (columns, uniques, indexes)
    engine.dispose()
    return shape


def test_sqlite_and_postgresql_get_the_same_schema(tmp_path):
    if not postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required in CI")
        pytest.skip("no PostgreSQL server answers")
    with new_database("sqlite", tmp_path) as lite, new_database("postgresql", tmp_path) as pg:
        migrated(lite, tmp_path)
        migrated(pg, tmp_path)
        lite_shape, pg_shape = describe(lite), describe(pg)
    assert lite_shape.keys() == pg_shape.keys()
    for table in lite_shape:
        assert lite_shape[table] == pg_shape[table], table


def test_the_postgresql_migration_makes_the_search_indexes_trigram_ones(tmp_path):
    """The migration creates pg_trgm first, and an ILIKE '%...%' search can then use its indexes."""
    if backend() != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    with new_database("postgresql", tmp_path) as url:
        migrated(url, tmp_path)
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SET enable_seqscan = off"))
            plans = {
                column: "\n".join(
                    conn.execute(text(f"EXPLAIN SELECT id FROM {table} WHERE {column} ILIKE '%tea pot%'")).scalars()
                )
                for table, column in (("projects", "title"), ("projects", "summary"), ("firms", "legal_name"))
            }
        engine.dispose()
    assert "ix_projects_title_trgm" in plans["title"] and "ix_projects_summary_trgm" in plans["summary"]
    assert "ix_firms_legal_name_trgm" in plans["legal_name"]


def test_typed_payout_references_become_payout_accounts_and_back(tmp_path):
    """d3a5c1f0b2e7: a sandbox-made reference becomes a verified account (and enters the
    sandbox's book); a typed one stays pending until the processor says otherwise; the same
    reference typed by a second firm is not given to it. Rows referencing firms survive (no
    table rebuild on SQLite). Downgrading puts the column back."""
    from flask_migrate import downgrade

    with new_database(backend(), tmp_path) as url:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            upgrade(revision="c7e2d9a4f618")
            with db.engine.begin() as conn:
                for firm_id, ref in ((1, "acct_sandbox_0a1b2c3d"), (2, "acct_1TypedByHand"), (3, "acct_1TypedByHand")):
                    conn.execute(
                        text(
                            "INSERT INTO firms (id, legal_name, registration_number, country, address, description, "
                            "payout_account_ref, created_at) VALUES (:id, :name, :number, 'GB', 'x', '', :ref, "
                            "CURRENT_TIMESTAMP)"
                        ),
                        {"id": firm_id, "name": f"Firm {firm_id}", "number": f"{firm_id:08d}", "ref": ref},
                    )
                conn.execute(
                    text(
                        "INSERT INTO users (id, email, name, password_hash, is_admin, created_at) "
                        "VALUES (1, 'f@example.com', 'F', 'x', false, CURRENT_TIMESTAMP)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO firm_members (id, firm_id, user_id, role, created_at) "
                        "VALUES (1, 1, 1, 'owner', CURRENT_TIMESTAMP)"
                    )
                )
            upgrade(revision="d3a5c1f0b2e7")
            with db.engine.connect() as conn:
                accounts = conn.execute(
                    text("SELECT firm_id, processor, processor_ref, status, role FROM payout_accounts ORDER BY firm_id")
                ).all()
                book = conn.execute(text("SELECT id, status, country FROM sandbox_accounts")).all()
                columns = [c["name"] for c in inspect(conn).get_columns("firms")]
                members = conn.execute(text("SELECT firm_id, user_id FROM firm_members")).all()
            assert [tuple(a) for a in accounts] == [
                (1, "sandbox", "acct_sandbox_0a1b2c3d", "verified", "current"),
                (2, "stripe", "acct_1TypedByHand", "pending", "current"),
            ]
            assert [tuple(b) for b in book] == [("acct_sandbox_0a1b2c3d", "verified", "GB")]
            assert "payout_account_ref" not in columns
            assert [tuple(m) for m in members] == [(1, 1)]  # nothing that references a firm was lost
            downgrade(revision="c7e2d9a4f618")
            with db.engine.connect() as conn:
                refs = conn.execute(text("SELECT id, payout_account_ref FROM firms ORDER BY id")).all()
            assert [tuple(r) for r in refs] == [
                (1, "acct_sandbox_0a1b2c3d"),
                (2, "acct_1TypedByHand"),
                (3, "acct_sandbox_none_3"),
            ]
            db.engine.dispose()
