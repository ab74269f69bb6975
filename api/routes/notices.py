"""My notices (消息): what the rules told my unit or me, newest first, and marking them read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import CurrentViewer, ServicesDep
from api.schemas.common import errors
from db.repositories import notices as repo
from engine.access import Viewer

router = APIRouter(tags=["notices"])


class NoticeRead(BaseModel):
    id: int
    case_id: int | None
    case_number: str | None
    cause: str
    title: str
    body: str
    created_at: datetime
    read: bool
    link: str | None = Field(description="the case's page")


class NoticeList(BaseModel):
    unread: int
    total: int
    items: list[NoticeRead]


class MarkRead(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=2**62)]] | None = Field(
        None, max_length=1000, description="the notices to mark read; omitted or null: all of mine")


class Marked(BaseModel):
    marked: int
    unread: int


def user_id_of(viewer: Viewer) -> int:
    """Notices are kept for people; a system's API key has none (an id no account has)."""
    kind, _, number = viewer.id.partition(":")
    return int(number) if kind == "user" else -1


@router.get("/notices", response_model=NoticeList, responses=errors(401, 422),
            summary="我的消息 / my notices, newest first")
def my_notices(viewer: CurrentViewer, services: ServicesDep, unread: bool = False,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> NoticeList:
    uid, unit = user_id_of(viewer), viewer.unit or ""
    with services.db.read() as conn:
        rows = repo.notices_for(conn, unit, uid, limit=limit, offset=offset, unread_only=unread)
        return NoticeList(
            unread=repo.unread_count(conn, unit, uid), total=repo.count_for(conn, unit, uid),
            items=[NoticeRead(id=r.id, case_id=r.case_id, case_number=r.case_number, cause=r.cause, title=r.title,
                              body=r.body, created_at=r.created_at, read=bool(r.read),
                              link=f"/case/{r.case_id}" if r.case_id else None) for r in rows])


@router.post("/notices/read", response_model=Marked, responses=errors(401, 422),
             summary="标记已读 / mark some or all of my notices read")
def mark_read(body: MarkRead, viewer: CurrentViewer, services: ServicesDep) -> Marked:
    uid, unit = user_id_of(viewer), viewer.unit or ""
    if uid < 0:
        return Marked(marked=0, unread=0)
    with services.db.write() as conn:
        marked = repo.mark_read(conn, unit, uid, body.ids, services.clock.now())
        return Marked(marked=marked, unread=repo.unread_count(conn, unit, uid))
