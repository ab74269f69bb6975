"""Cases: opening one, firing an event, and what a reader is shown."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.attachments import AttachmentRecord
from api.schemas.common import Code, JsonObject, Name, SafeStr, Strict
from api.schemas.definitions import FieldInfo
from api.schemas.time import PROVISIONAL, DeadlineRead
from db.repositories.case_queries import CaseRecord
from db.repositories.cases import HistoryRow
from engine.definition import Definition

Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
SortKey = Literal["updated_at", "-updated_at", "created_at", "-created_at", "due_at", "-due_at", "number", "-number",
                  "state", "-state", "title", "-title"]


class CaseCreate(Strict):
    workflow: Name = Field(description="definition name, e.g. referral")
    version: Version | None = Field(None, description="definition version; the latest when omitted")
    title: Annotated[SafeStr, Field(min_length=1, max_length=300)]
    description: Annotated[SafeStr, Field(max_length=20000)] = ""
    parties: dict[Name, Annotated[list[Code], Field(max_length=50)]] = Field(
        default_factory=dict, max_length=20, description="party role -> unit codes, e.g. {\"invited\": [\"gy_jcy\"]}")
    payload: JsonObject = Field(default_factory=dict, description="the fields the definition's `create` declares")


class EventFire(Strict):
    event: Name
    payload: JsonObject = Field(default_factory=dict, description="the fields the event declares")
    version: Version | None = Field(None, description="the case version you saw (or send If-Match)")


class CaseSummary(BaseModel):
    id: int
    number: str
    task_force: str
    workflow: str
    workflow_version: int
    state: str
    state_title: str
    version: int
    closed: bool
    title: str
    parties: dict[str, list[str]]
    due_at: datetime | None
    overdue: bool
    due_provisional: bool = Field(False, description=f"the due date is {PROVISIONAL}")
    due_provisional_reason: str | None = Field(None, description="why, in Chinese (暂定：…)")
    created_at: datetime
    updated_at: datetime
    state_entered_at: datetime

    @classmethod
    def fields_of(cls, r: CaseRecord, d: Definition, now: datetime, provisional: str = "") -> dict[str, Any]:
        return {
            "due_provisional": bool(provisional), "due_provisional_reason": provisional or None,
            "id": r.id, "number": r.number, "task_force": r.task_force_code, "workflow": r.workflow,
            "workflow_version": r.workflow_version, "state": r.state, "state_title": d.states[r.state].title,
            "version": r.version, "closed": r.closed, "title": r.title, "parties": r.parties, "due_at": r.due_at,
            "overdue": bool(not r.closed and r.due_at is not None and r.due_at < now), "created_at": r.created_at,
            "updated_at": r.updated_at, "state_entered_at": r.state_entered_at,
        }

    @classmethod
    def of(cls, r: CaseRecord, d: Definition, now: datetime, provisional: str = "") -> CaseSummary:
        return cls(**cls.fields_of(r, d, now, provisional))


class CaseRead(CaseSummary):
    description: str
    data: dict[str, Any]
    head_hash: str
    allowed_events: list[str] = Field(description="events you may fire now")
    deadlines: list[DeadlineRead] = Field(default_factory=list, description="the case's named clocks")

    @classmethod
    def of_case(cls, r: CaseRecord, d: Definition, now: datetime, allowed: list[str],
                deadlines: list[DeadlineRead] | None = None, provisional: str = "") -> CaseRead:
        return cls(**cls.fields_of(r, d, now, provisional), description=r.description, data=r.data,
                   head_hash=r.head_hash, allowed_events=allowed, deadlines=deadlines or [])


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    limit: int
    offset: int


class EventOption(BaseModel):
    name: str
    title: str
    to_state: str
    to_state_title: str
    fields: list[FieldInfo]


class HistoryRecord(BaseModel):
    """A history row exactly as hashed: every field the chain covers."""

    seq: int
    kind: str
    event: str
    from_state: str | None
    to_state: str
    actor_id: str
    actor_unit: str | None
    actor_role: str | None
    payload: dict[str, Any]
    at: datetime
    prev_hash: str
    hash: str


class HistoryEntry(HistoryRecord):
    """A history row for readers, with the event's and the state's titles."""

    event_title: str
    to_state_title: str

    @classmethod
    def of(cls, h: HistoryRow, d: Definition) -> HistoryEntry:
        ev = d.events.get(h.event)
        title = ev.title if ev else ("创建" if h.kind == "create" else h.event)
        state = d.states.get(h.to_state)
        return cls(**{k: v for k, v in asdict(h).items() if k != "case_id"}, event_title=title,
                   to_state_title=state.title if state else "")


class ExportDefinition(BaseModel):
    name: str
    version: int
    title: str
    content_hash: str


class ExportCase(BaseModel):
    id: int
    number: str
    task_force: str
    state: str
    state_title: str
    version: int
    closed: bool
    title: str
    description: str
    data: dict[str, Any]
    parties: dict[str, list[str]]
    head_hash: str
    created_at: datetime
    updated_at: datetime
    state_entered_at: datetime
    due_at: datetime | None


class CaseExport(BaseModel):
    """A case and its whole hash-chained history, as one document (format gongzhi.case-export/1)."""

    format: str
    exported_at: datetime
    definition: ExportDefinition
    case: ExportCase
    history: list[HistoryRecord]
    attachments: list[AttachmentRecord]
