"""Stored replies to POSTs carrying an Idempotency-Key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from db.models import IdempotencyKey

_t = IdempotencyKey.__table__


@dataclass(frozen=True, slots=True)
class StoredReply:
    request_hash: str
    status_code: int
    response: Any
    headers: dict[str, str]
    created_at: datetime


# Built once per dialect: these run on every POST that carries a key.
_CLAIM = {
    name: ins(_t).values(principal=bindparam("b_p"), key=bindparam("b_k"), request_hash=bindparam("b_h"),
                         status_code=0, response=None, headers={}, created_at=bindparam("b_at"))
    .on_conflict_do_nothing(index_elements=["principal", "key"]).returning(_t.c.key)
    for name, ins in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}
_FIND = select(_t.c.request_hash, _t.c.status_code, _t.c.response, _t.c.headers, _t.c.created_at).where(
    _t.c.principal == bindparam("b_p"), _t.c.key == bindparam("b_k"))
_STORE = update(_t).where(_t.c.principal == bindparam("b_p"), _t.c.key == bindparam("b_k")).values(
    status_code=bindparam("b_status"), response=bindparam("b_response"), headers=bindparam("b_headers"))


def claim(conn: Connection, principal: str, key: str, request_hash: str, now: datetime) -> bool:
    """Take the key for this request; False when it is already taken.

    On PostgreSQL a concurrent claim of the same key waits here until the first transaction ends:
    then it finds the first one's committed reply (or, if that rolled back, takes the key itself).
    """
    got = conn.execute(_CLAIM[conn.dialect.name], {"b_p": principal, "b_k": key, "b_h": request_hash,
                                                   "b_at": now}).first()
    return got is not None


def find(conn: Connection, principal: str, key: str) -> StoredReply | None:
    row = conn.execute(_FIND, {"b_p": principal, "b_k": key}).first()
    return StoredReply(*row) if row else None


def release(conn: Connection, principal: str, key: str) -> None:
    conn.execute(delete(_t).where(_t.c.principal == principal, _t.c.key == key))


def store(conn: Connection, principal: str, key: str, status_code: int, response: Any, headers: dict[str, str]) -> None:
    conn.execute(_STORE, {"b_p": principal, "b_k": key, "b_status": status_code, "b_response": response,
                          "b_headers": headers})


def purge(conn: Connection, principal: str, expired_before: datetime) -> None:
    conn.execute(delete(_t).where(_t.c.principal == principal, _t.c.created_at < expired_before))
