"""Migrations are the schema's source of truth: they round-trip and the models do not drift."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from db import migrate
from db.base import Base
from db.migration_only import MIGRATION_ONLY_TABLES, include_object


def test_upgrade_downgrade_upgrade_and_no_drift(backend, fresh_url):
    url = fresh_url(backend)
    engine = create_engine(url)
    try:
        migrate.upgrade(url)
        tables = set(inspect(engine).get_table_names())
        assert {"cases", "case_history", "definitions", "units"} <= tables
        migrate.downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(url)
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as conn:
            # Full-text search objects exist only in the migration; they are excused by name, nothing else.
            opts = {"compare_type": True, "include_object": include_object}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
        assert diff == []
        if backend == "sqlite":
            assert {"case_search_fts", "history_search_fts"} <= set(inspect(engine).get_table_names())
            assert set(inspect(engine).get_table_names()) & MIGRATION_ONLY_TABLES
    finally:
        engine.dispose()
