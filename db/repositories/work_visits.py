"""Every SQL statement about when a person last looked at 我的待办."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from db.models import WorkVisit

visits = WorkVisit.__table__


def visit(conn: Connection, user_id: int, now: datetime, sitting: timedelta) -> datetime | None:
    """Record a visit at `now`; the moment since which cases count as 新到. A visit within `sitting` of
    the last one belongs to the same sitting and keeps its markers."""
    row = conn.execute(select(visits.c.seen_at, visits.c.marks_since).where(visits.c.user_id == user_id)).first()
    if row is None:
        conn.execute(insert(visits), {"user_id": user_id, "seen_at": now, "marks_since": None})
        return None
    seen_at, since = row
    if now - seen_at > sitting:
        since = seen_at
    conn.execute(update(visits).where(visits.c.user_id == user_id).values(seen_at=now, marks_since=since))
    return since
