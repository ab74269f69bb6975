"""Shapes of the time views, links and archived documents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


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
