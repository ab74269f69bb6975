"""Idempotency-Key: a retried POST replays the first reply instead of acting twice.

The key is claimed (INSERT ... ON CONFLICT DO NOTHING) in the same transaction as the action, so the
reply is stored exactly when the action commits; a failed action leaves no claim and may be retried.
Two concurrent requests with one key: on PostgreSQL the second claim waits for the first transaction
and then finds its reply, on SQLite writers are serialised — either way the second replays the first. The same key with a
different request is refused (422), as the IETF draft on the header recommends.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from api.deps import Services
from api.errors import ApiError
from db.repositories import idempotency as repo
from db.repositories.idempotency import StoredReply
from engine.access import Viewer

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[!-~]+$",
    description="重试安全：相同的键重放第一次的结果 / retry-safe: the same key replays the first reply")]


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, replayed: bool = False) -> JSONResponse:
        headers = dict(self.headers)
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(self.body, status_code=self.status, headers=headers)


def fingerprint(*parts: Any) -> str:
    """SHA-256 of what makes two requests the same request."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def _replay(stored: StoredReply, request_hash: str) -> JSONResponse:
    if stored.request_hash != request_hash:
        raise ApiError(422, "idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求，请换一个键",
                       "this Idempotency-Key was used for a different request; use a new key",
                       field="Idempotency-Key")
    return Reply(stored.status_code, stored.response, stored.headers).response(replayed=True)


def run(services: Services, viewer: Viewer, key: str | None, request_hash: str,
        action: Callable[[Connection], Reply]) -> JSONResponse:
    """Run `action` in one write transaction, at most once per (viewer, key)."""
    db = services.db
    if key is None:
        with db.write() as conn:
            return action(conn).response()
    now = services.clock.now()
    expired_before = now - timedelta(hours=services.settings.idempotency_ttl_hours)
    with db.write() as conn:
        if zlib.crc32(key.encode()) % 64 == 0:
            repo.purge(conn, viewer.id, expired_before)  # now and then, not on every request
        if not repo.claim(conn, viewer.id, key, request_hash, now):
            stored = repo.find(conn, viewer.id, key)
            if stored is not None and stored.created_at >= expired_before:
                return _replay(stored, request_hash)
            repo.release(conn, viewer.id, key)
            repo.claim(conn, viewer.id, key, request_hash, now)
        reply = action(conn)
        repo.store(conn, viewer.id, key, reply.status, reply.body, reply.headers)
    return reply.response()
