"""Shapes of the time views, links and archived documents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from engine.deadlines import provisional_reason
from engine.definition import Definition

PROVISIONAL = ("computed for a year whose holiday schedule is not yet published (weekends alone count as "
               "rest days); recomputed once it is")


class DueItemRead(BaseModel):
    case_id: int
    number: str
    title: str
    workflow: str
    state: str
    unit: str
    due_at: datetime
    overdue: bool
    days_overdue: int
    provisional: bool = Field(False, description=PROVISIONAL)
    provisional_reason: str | None = Field(None, description="why, in Chinese (暂定：…)")


class DeadlineRead(BaseModel):
    """One named clock on a case."""

    name: str
    title: str
    status: str = Field(description="running | paused | met | late | expired")
    owner_role: str | None
    started_at: datetime
    due_at: datetime
    provisional: bool = Field(description=PROVISIONAL)
    provisional_reason: str | None = Field(description="why, in Chinese (暂定：…)")
    source: str | None = Field(None, description="the rule the deadline comes from, by article and year, as the "
                                                 "definition cites it (《…》（2021）第…条); null when it names none")

    @classmethod
    def of(cls, row: Any, d: Definition) -> DeadlineRead:
        spec = d.deadlines.get(row.name)
        return cls(name=row.name, title=spec.title if spec else row.name, status=row.status,
                   owner_role=row.owner_role, started_at=row.started_at, due_at=row.due_at,
                   provisional=bool(row.provisional),
                   provisional_reason=provisional_reason(row.rule, row.due_at) if row.provisional else None,
                   source=spec.source.text if spec and spec.source else None)


class ScorecardRead(BaseModel):
    unit: str
    deadlines_met: int
    deadlines_late: int
    on_time_rate: float | None
    open_overdue: int
    cards: dict[str, int]


class LinkRead(BaseModel):
    direction: str  # to | from
    kind: str
    case_id: int
    number: str


class DocumentRead(BaseModel):
    id: int
    kind: str
    origin: str
    number: str
    title: str
    issuer: str
    year: int
    template_version: str | None
    sha256: str
    size: int
    history_seq: int
    created_at: datetime
