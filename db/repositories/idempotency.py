"""Stored replies to POSTs carrying an Idempotency-Key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from db.models import IdempotencyKey

_t = IdempotencyKey.__table__


@dataclass(frozen=True, slots=True)
class StoredReply:
    request_hash: str
    status_code: int
    response: Any
    headers: dict[str, str]
    created_at: datetime


def find(conn: Connection, principal: str, key: str) -> StoredReply | None:
    row = conn.execute(select(_t.c.request_hash, _t.c.status_code, _t.c.response, _t.c.headers, _t.c.created_at)
                       .where(_t.c.principal == principal, _t.c.key == key)).first()
    return StoredReply(*row) if row else None


def claim(conn: Connection, principal: str, key: str, request_hash: str, now: datetime, expired_before: datetime) -> None:
    """Take the key for this request. On PostgreSQL a concurrent claim of the same key waits here for
    the first to finish, then fails on the primary key: the caller replays the first reply."""
    conn.execute(delete(_t).where(_t.c.principal == principal, _t.c.created_at < expired_before))
    conn.execute(insert(_t), {"principal": principal, "key": key, "request_hash": request_hash, "status_code": 0,
                              "response": None, "headers": {}, "created_at": now})


def store(conn: Connection, principal: str, key: str, status_code: int, response: Any, headers: dict[str, str]) -> None:
    conn.execute(update(_t).where(_t.c.principal == principal, _t.c.key == key)
                 .values(status_code=status_code, response=response, headers=headers))
