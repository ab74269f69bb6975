"""Gap-free counters: one row per (scope, year), incremented inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from db.models import Sequence

_table = Sequence.__table__


def next_value(conn: Connection, scope: str, year: int) -> int:
    """The next number; concurrent callers serialise on the row and never share a number."""
    ins = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(_table)
    stmt = ins.values(scope=scope, year=year, last=1).on_conflict_do_update(
        index_elements=["scope", "year"], set_={"last": _table.c.last + 1}
    ).returning(_table.c.last)
    return conn.execute(stmt).scalar_one()


def current_value(conn: Connection, scope: str, year: int) -> int:
    """The last number given out (0 before the first); the next caller of next_value gets one more,
    unless another gets there first."""
    found = conn.execute(select(_table.c.last).where(_table.c.scope == scope, _table.c.year == year)).scalar()
    return found or 0
