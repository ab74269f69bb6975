"""Schema objects that exist only in migrations — full-text search — and that autogenerate must leave be.

SQLite keeps FTS5 virtual tables (each with its shadow tables) filled by triggers; PostgreSQL keeps
pg_trgm GIN indexes on expressions. None of them can be declared on the models, so the migration is
their only definition; `include_object` keeps autogenerate and the drift test from proposing to drop
them, and names them one by one so nothing else slips through.
"""

from __future__ import annotations

from typing import Any

FTS_TABLES = ("case_search_fts", "history_search_fts")
_FTS5_SHADOWS = ("", "_data", "_idx", "_content", "_docsize", "_config")
MIGRATION_ONLY_TABLES = frozenset(t + s for t in FTS_TABLES for s in _FTS5_SHADOWS)
MIGRATION_ONLY_INDEXES = frozenset({"ix_cases_search_trgm", "ix_case_history_search_trgm"})


def include_object(_obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """False for the search objects found in the database that the models do not declare."""
    if reflected and compare_to is None:
        if type_ == "table" and name in MIGRATION_ONLY_TABLES:
            return False
        if type_ == "index" and name in MIGRATION_ONLY_INDEXES:
            return False
    return True
