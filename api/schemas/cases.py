"""Cases: opening one, firing an event, and what a reader is shown."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import Code, JsonObject, Name, SafeStr, Strict
from api.schemas.definitions import FieldInfo
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
    created_at: datetime
    updated_at: datetime
    state_entered_at: datetime

    @classmethod
    def fields_of(cls, r: CaseRecord, d: Definition, now: datetime) -> dict[str, Any]:
        return {
            "id": r.id, "number": r.number, "task_force": r.task_force_code, "workflow": r.workflow,
            "workflow_version": r.workflow_version, "state": r.state, "state_title": d.states[r.state].title,
            "version": r.version, "closed": r.closed, "title": r.title, "parties": r.parties, "due_at": r.due_at,
            "overdue": bool(not r.closed and r.due_at is not None and r.due_at < now), "created_at": r.created_at,
            "updated_at": r.updated_at, "state_entered_at": r.state_entered_at,
        }

    @classmethod
    def of(cls, r: CaseRecord, d: Definition, now: datetime) -> CaseSummary:
        return cls(**cls.fields_of(r, d, now))


class CaseRead(CaseSummary):
    description: str
    data: dict[str, Any]
    head_hash: str
    allowed_events: list[str] = Field(description="events you may fire now")

    @classmethod
    def of_case(cls, r: CaseRecord, d: Definition, now: datetime, allowed: list[str]) -> CaseRead:
        return cls(**cls.fields_of(r, d, now), description=r.description, data=r.data, head_hash=r.head_hash,
                   allowed_events=allowed)


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


class HistoryEntry(BaseModel):
    seq: int
    kind: str
    event: str
    event_title: str
    from_state: str | None
    to_state: str
    to_state_title: str
    actor_id: str
    actor_unit: str | None
    actor_role: str | None
    payload: dict[str, Any]
    at: datetime
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, h: HistoryRow, d: Definition) -> HistoryEntry:
        ev = d.events.get(h.event)
        title = ev.title if ev else ("创建" if h.kind == "create" else h.event)
        return cls(seq=h.seq, kind=h.kind, event=h.event, event_title=title, from_state=h.from_state,
                   to_state=h.to_state, to_state_title=d.states[h.to_state].title if h.to_state in d.states else "",
                   actor_id=h.actor_id, actor_unit=h.actor_unit, actor_role=h.actor_role, payload=h.payload, at=h.at,
                   prev_hash=h.prev_hash, hash=h.hash)


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


class ExportHistory(BaseModel):
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


class ExportAttachment(BaseModel):
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    description: str
    uploaded_by: str
    uploader_unit: str | None
    history_seq: int
    uploaded_at: datetime


class CaseExport(BaseModel):
    """A case and its whole hash-chained history, as one document (format gongzhi.case-export/1)."""

    format: str
    exported_at: datetime
    definition: ExportDefinition
    case: ExportCase
    history: list[ExportHistory]
    attachments: list[ExportAttachment]
