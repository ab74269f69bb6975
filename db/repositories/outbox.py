"""The outbox: rows written inside an event's transaction, claimed and completed afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from db.models import OutboxItem

_t = OutboxItem.__table__


def enqueue(conn: Connection, items: list[tuple[str, int | None, int | None, dict[str, Any]]], now: datetime) -> None:
    conn.execute(insert(_t), [
        {"topic": topic, "case_id": case_id, "history_seq": seq, "payload": payload, "status": "pending",
         "attempts": 0, "available_at": now, "created_at": now}
        for topic, case_id, seq, payload in items
    ])


def claim(conn: Connection, topic: str, now: datetime, limit: int = 10):
    """Pending items that are due; on PostgreSQL other workers skip the rows this one holds."""
    stmt = (select(_t).where(_t.c.topic == topic, _t.c.status == "pending", _t.c.available_at <= now)
            .order_by(_t.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return conn.execute(stmt).all()


def complete(conn: Connection, item_id: int, now: datetime) -> None:
    conn.execute(update(_t).where(_t.c.id == item_id).values(status="done", done_at=now,
                                                              attempts=_t.c.attempts + 1, last_error=None))


def fail(conn: Connection, item_id: int, now: datetime, error: str, *, max_attempts: int, backoff: timedelta) -> None:
    """Record a failure; retried later until the budget is spent, then kept as failed (never dropped)."""
    row = conn.execute(select(_t.c.attempts).where(_t.c.id == item_id)).scalar_one()
    attempts = row + 1
    conn.execute(update(_t).where(_t.c.id == item_id).values(
        attempts=attempts, last_error=error[:4000], available_at=now + backoff * attempts,
        status="failed" if attempts >= max_attempts else "pending"))


def lease(conn: Connection, item_id: int, until: datetime) -> None:
    """Hold a claimed item for one worker while it works outside the claiming transaction: others
    skip it until `until`, when it becomes claimable again if that worker died."""
    conn.execute(update(_t).where(_t.c.id == item_id).values(available_at=until))
