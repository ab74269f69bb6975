"""Stored responses of POSTs sent with an Idempotency-Key, so a retry replays instead of repeating."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.types import JsonType, UTCDateTime


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    # Keys are the client's; two principals may pick the same one without meeting.
    principal: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 of method, path, preconditions and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JsonType)
    headers: Mapped[dict[str, str]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
