"""Statements of the background work: heartbeats, failures kept for retry, and a lock per piece of work."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select, text, update

from db.models import JobFailure, WorkerHeartbeat

_hb = WorkerHeartbeat.__table__
_jf = JobFailure.__table__


def beat(conn: Connection, *, worker: str, task: str, host: str, pid: int, started_at: datetime, now: datetime,
         rounds: int, error: str | None) -> None:
    values = {"beat_at": now, "rounds": rounds}
    if error is not None:
        values |= {"last_error": error[:4000], "last_error_at": now}
    if conn.execute(update(_hb).where(_hb.c.worker == worker).values(**values)).rowcount == 0:
        conn.execute(insert(_hb), {"worker": worker, "task": task, "host": host, "pid": pid,
                                   "started_at": started_at, **values})


def heartbeats(conn: Connection):
    return conn.execute(select(_hb).order_by(_hb.c.task, _hb.c.beat_at.desc())).all()


def forget_worker(conn: Connection, worker: str) -> None:
    conn.execute(delete(_hb).where(_hb.c.worker == worker))


def backing_off(conn: Connection, key: str, now: datetime) -> bool:
    """True while a failed piece of work waits for its next try."""
    return conn.execute(select(func.count()).select_from(_jf).where(_jf.c.key == key, _jf.c.next_at > now)
                        ).scalar_one() > 0


def record_failure(conn: Connection, *, key: str, task: str, task_force: str | None, error: str, now: datetime,
                   backoff: timedelta, cap: timedelta) -> datetime:
    """Count a failure and choose the next try: the delay doubles with each failure, up to `cap`."""
    attempts = conn.execute(select(_jf.c.attempts).where(_jf.c.key == key)).scalar()
    if attempts is None:
        next_at = now + backoff
        conn.execute(insert(_jf), {"key": key, "task": task, "task_force_code": task_force, "attempts": 1,
                                   "first_at": now, "last_at": now, "next_at": next_at, "last_error": error[:4000]})
        return next_at
    next_at = now + min(cap, backoff * 2 ** min(attempts, 16))
    conn.execute(update(_jf).where(_jf.c.key == key).values(attempts=attempts + 1, last_at=now, next_at=next_at,
                                                            last_error=error[:4000]))
    return next_at


def clear_failure(conn: Connection, key: str) -> None:
    conn.execute(delete(_jf).where(_jf.c.key == key))


def failures(conn: Connection):
    return conn.execute(select(_jf).order_by(_jf.c.last_at.desc())).all()


def serialize(conn: Connection, key: str) -> None:
    """Hold a lock named `key` until the transaction ends, so two worker processes never do the same
    piece of work at once (PostgreSQL); SQLite's single writer already serialises them."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})
