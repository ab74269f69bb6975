"""What guards ask of units: their kind and the top-level jurisdiction (city, new area) they sit in."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from db.models import Jurisdiction, Unit

_u, _j = Unit.__table__, Jurisdiction.__table__


def facts(conn: Connection, codes: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """unit code → (kind, top-level jurisdiction code or None for units at the root)."""
    codes = list(dict.fromkeys(codes))
    if not codes:
        return {}
    rows = conn.execute(select(_u.c.code, _u.c.kind, _j.c.top_code)
                        .join(_j, _j.c.code == _u.c.jurisdiction_code).where(_u.c.code.in_(codes)))
    return {code: (kind, top) for code, kind, top in rows}
