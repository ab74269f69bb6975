"""The hash chain over a case's history rows."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def row_hash(*, case_id: int, seq: int, kind: str, event: str, from_state: str | None, to_state: str,
             actor_id: str, actor_unit: str | None, actor_role: str | None, payload: dict[str, Any],
             at: datetime, prev_hash: str) -> str:
    """SHA-256 over the row's content and the previous row's hash; any later edit breaks the chain."""
    body = json.dumps(
        [case_id, seq, kind, event, from_state, to_state, actor_id, actor_unit, actor_role, payload,
         at.astimezone(UTC).isoformat(timespec="microseconds"), prev_hash],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()
