"""Rows the background work would have written, put in place directly (the work itself is not under test)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from db.models import JobFailure, OutboxItem, Timer, WorkerHeartbeat


def heartbeat(db, task: str, beat_at: datetime, *, host: str = "gz-test", pid: int = 4242, rounds: int = 7,
              last_error: str | None = None) -> None:
    with db.write() as conn:
        conn.execute(insert(WorkerHeartbeat.__table__), {
            "worker": f"{host}:{pid}:{task}", "task": task, "host": host, "pid": pid,
            "started_at": beat_at - timedelta(hours=1), "beat_at": beat_at, "rounds": rounds,
            "last_error": last_error, "last_error_at": beat_at if last_error else None})


def failure(db, key: str, task: str, now: datetime, *, task_force: str | None = "two_lakes", attempts: int = 3,
            error: str = "boom") -> None:
    with db.write() as conn:
        conn.execute(insert(JobFailure.__table__), {
            "key": key, "task": task, "task_force_code": task_force, "attempts": attempts, "first_at": now,
            "last_at": now, "next_at": now + timedelta(minutes=8), "last_error": error})


def outbox(db, topic: str, case_id: int, status: str, now: datetime, payload: dict, error: str | None = None) -> None:
    with db.write() as conn:
        conn.execute(insert(OutboxItem.__table__), {
            "topic": topic, "case_id": case_id, "history_seq": 1, "payload": payload, "status": status,
            "attempts": 2 if error else 0, "available_at": now, "last_error": error, "created_at": now})


def timer(db, case_id: int, due_at: datetime, *, action: str = "expire", status: str = "pending") -> None:
    with db.write() as conn:
        conn.execute(insert(Timer.__table__), {
            "case_id": case_id, "deadline": "accept_by", "action": action, "due_at": due_at, "status": status,
            "created_at": due_at - timedelta(days=3), "attempts": 0})
