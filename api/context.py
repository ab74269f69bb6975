"""Per-request context visible to logging and error bodies."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("gongzhi_request_id", default=None)
