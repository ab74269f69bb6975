"""The unit of work that the product's request, command or worker round owns, for tests that call the
case service directly: each helper opens one transaction — a write commits on success and rolls back on
error — and calls the service in it, exactly as a request does. Product code has no such shortcut."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from db.repositories.cases import CaseRow, HistoryRow
from engine.actors import Actor
from engine.cases import Cases


def fire(cases: Cases, case: CaseRow | int, event: str, actor: Actor, payload: Mapping[str, Any] | None = None,
         **kwargs: Any) -> CaseRow:
    with cases.db.write() as conn:
        return cases.fire(conn, case, event, actor, payload, **kwargs)


def start(cases: Cases, **kwargs: Any) -> CaseRow:
    with cases.db.write() as conn:
        return cases.start(conn, **kwargs)


def load(cases: Cases, case_id: int) -> CaseRow:
    with cases.db.read() as conn:
        return cases.load(conn, case_id)


def history(cases: Cases, case_id: int) -> list[HistoryRow]:
    with cases.db.read() as conn:
        return cases.history(conn, case_id)


def replay(cases: Cases, case_id: int) -> str:
    with cases.db.read() as conn:
        return cases.replay(conn, case_id)


def verify(cases: Cases) -> list[str]:
    with cases.db.read() as conn:
        return cases.verify(conn)


def allowed_events(cases: Cases, case: CaseRow | int, actor: Actor) -> list[str]:
    with cases.db.read() as conn:
        return cases.allowed_events(conn, case, actor)
