"""Cases: list (scoped, filtered, searched), open, read, fire events, history, export."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from api import idempotency
from api.deps import AccessDep, ServicesDep
from api.errors import ApiError
from api.idempotency import IdempotencyKey, Reply
from api.read_receipts import record_first_read
from api.schemas.cases import (
    CaseCreate,
    CaseExport,
    CasePage,
    CaseRead,
    CaseSummary,
    EventFire,
    EventOption,
    HistoryEntry,
    SortKey,
)
from api.schemas.common import SafeStr, errors
from api.schemas.definitions import FieldInfo
from api.schemas.time import DeadlineRead
from db.repositories import time as time_repo
from db.repositories.case_queries import CaseFilter
from engine.access import CaseAccess
from engine.deadlines import provisional_due_among, provisional_dues
from engine.errors import StaleVersion
from engine.export import case_export
from engine.localtime import start_of_local_day

router = APIRouter(prefix="/cases", tags=["cases"])
CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]
_NAME = r"^[a-z][a-z0-9_]*$"
_CODE = r"^[A-Za-z0-9_\-]+$"
IfMatch = Annotated[str | None, Header(
    alias="If-Match", max_length=100,
    description='the case version you saw, as its ETag ("3"); a stale one is refused with 409')]
_VERSION = re.compile(r"[0-9]{1,10}")
# Without If-Match an event applies to the case as it is: a race lost to another writer is retried, the
# retry holding the case row, so it cannot lose again on PostgreSQL (SQLite serialises writers anyway).
LOST_RACE_RETRIES = 3
_ETAG_HEADER = {"ETag": {"description": 'the case version, e.g. "3"', "schema": {"type": "string"}}}


def _etag(version: int) -> str:
    return f'"{version}"'


def _expected_version(if_match: str | None, in_body: int | None) -> int | None:
    seen = None
    if if_match is not None and if_match.strip() != "*":
        raw = if_match.strip().removeprefix("W/").strip('"')
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses, and int() reads "٣".
        if not _VERSION.fullmatch(raw) or not 1 <= int(raw) <= 2**31 - 1:
            raise ApiError(422, "validation_error", "If-Match 应为案件版本，如 \"3\"",
                           'If-Match must be the case version, e.g. "3"', field="If-Match")
        seen = int(raw)
    if seen is not None and in_body is not None and seen != in_body:
        raise ApiError(422, "validation_error", "If-Match 与请求体中的 version 不一致",
                       "If-Match and the body's version disagree", field="version")
    return seen if seen is not None else in_body


def _case_reply(conn: Connection, access: CaseAccess, case_id: int, now: datetime, status: int) -> Reply:
    record = access.record_after_acting(conn, case_id)
    d = access.machine(conn, record).definition
    rows = time_repo.deadlines_of(conn, case_id)
    read = CaseRead.of_case(record, d, now, access.allowed(conn, record), [DeadlineRead.of(row, d) for row in rows],
                            provisional_due_among(rows, record.due_at))
    headers = {"ETag": _etag(record.version)}
    if status == 201:
        headers["Location"] = f"/cases/{case_id}"
    return Reply(status, read.model_dump(mode="json"), headers)


def _local_midnight(day: date, field: str) -> datetime:
    if not date(1900, 1, 1) <= day <= date(2999, 12, 31):
        raise ApiError(422, "validation_error", f"{field} 超出范围", f"{field} must lie in 1900-2999", field=field)
    return start_of_local_day(day)


@router.get("", response_model=CasePage, responses=errors(401, 422),
            summary="我能看到的案件 / the cases I may see, filtered, searched, paged")
def list_cases(
    access: AccessDep, services: ServicesDep,
    workflow: Annotated[str | None, Query(max_length=60, pattern=_NAME, description="definition name")] = None,
    state: Annotated[str | None, Query(max_length=60, pattern=_NAME)] = None,
    unit: Annotated[str | None, Query(max_length=60, pattern=_CODE, description="a party unit")] = None,
    jurisdiction: Annotated[str | None, Query(
        max_length=60, pattern=_CODE, description="a party unit lies in this jurisdiction or below it")] = None,
    closed: bool | None = None,
    overdue: Annotated[bool | None, Query(description="open and past its due time")] = None,
    due_before: Annotated[date | None, Query(description="due before the start of this day (Asia/Shanghai)")] = None,
    q: Annotated[SafeStr | None, Query(max_length=200, description=(
        "full text in titles, descriptions and payloads; words separated by spaces must all match"))] = None,
    sort: SortKey = "-updated_at",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> CasePage:
    now = services.clock.now()
    f = CaseFilter(workflow=workflow, state=state, unit=unit, jurisdiction=jurisdiction, closed=closed,
                   overdue=overdue, due_before=_local_midnight(due_before, "due_before") if due_before else None,
                   q=q, sort=sort, limit=limit, offset=offset)
    with services.db.read() as conn:
        records, total = access.search(conn, f, now)
        provisional = provisional_dues(conn, [r.id for r in records if r.due_at is not None])
        items = [CaseSummary.of(r, access.machine(conn, r).definition, now, provisional.get(r.id, ""))
                 for r in records]
    return CasePage(items=items, total=total, limit=limit, offset=offset)


@router.post("", status_code=201, response_model=CaseRead, responses={
    201: {"headers": {**_ETAG_HEADER, "Location": {"schema": {"type": "string"}}}}, **errors(401, 403, 404, 409, 422)},
    summary="新建案件 / open a case in my task force")
def create_case(body: CaseCreate, access: AccessDep, services: ServicesDep,
                idempotency_key: IdempotencyKey = None) -> JSONResponse:
    def action(conn: Connection) -> Reply:
        case = access.start(conn, workflow=body.workflow, version=body.version, title=body.title,
                            description=body.description, parties=body.parties, payload=body.payload)
        return _case_reply(conn, access, case.id, services.clock.now(), 201)

    request_hash = idempotency.fingerprint("POST", "/cases", body.model_dump(mode="json"))
    return idempotency.run(services, access.viewer, idempotency_key, request_hash, action)


@router.get("/{case_id}", response_model=CaseRead, responses={200: {"headers": _ETAG_HEADER}, **errors(401, 404, 422)},
            summary="案件详情 / one case, with the events I may fire now")
def get_case(case_id: CaseId, access: AccessDep, services: ServicesDep) -> JSONResponse:
    record_first_read(services.db, access, case_id)  # 已阅: a shared unit's reader, the first time
    with services.db.read() as conn:
        access.record(conn, case_id)
        return _case_reply(conn, access, case_id, services.clock.now(), 200).response()


@router.post("/{case_id}/events", response_model=CaseRead, responses={
    200: {"headers": _ETAG_HEADER}, **errors(401, 403, 404, 409, 422)},
    summary="执行操作（流转）/ fire an event: 403 without the role, 409 not allowed now or stale version")
def fire_event(case_id: CaseId, body: EventFire, access: AccessDep, services: ServicesDep, if_match: IfMatch = None,
               idempotency_key: IdempotencyKey = None) -> JSONResponse:
    expected = _expected_version(if_match, body.version)
    attempt = 0

    def action(conn: Connection) -> Reply:
        if attempt:
            access.cases.load(conn, case_id, lock=True)
        access.fire(conn, case_id, body.event, body.payload, expected_version=expected)
        return _case_reply(conn, access, case_id, services.clock.now(), 200)

    request_hash = idempotency.fingerprint("POST", f"/cases/{case_id}/events", body.model_dump(mode="json"), expected)
    while True:
        try:
            return idempotency.run(services, access.viewer, idempotency_key, request_hash, action)
        except StaleVersion:
            # With If-Match a stale version is the client's to resolve (409); without, it is ours.
            if expected is not None or attempt >= LOST_RACE_RETRIES:
                raise
            attempt += 1


@router.get("/{case_id}/events", response_model=list[EventOption], responses=errors(401, 404, 422),
            summary="我现在可执行的操作 / the events I may fire now, with their fields")
def allowed_events(case_id: CaseId, access: AccessDep, services: ServicesDep) -> list[EventOption]:
    with services.db.read() as conn:
        record = access.record(conn, case_id)
        m = access.machine(conn, record)
        out = []
        for name in access.allowed(conn, record):
            ev, dest = m.definition.events[name], m.dest[(record.state, name)]
            out.append(EventOption(name=name, title=ev.title, to_state=dest,
                                   to_state_title=m.definition.states[dest].title,
                                   fields=[FieldInfo.of(f) for f in ev.fields]))
    return out


@router.get("/{case_id}/history", response_model=list[HistoryEntry], responses=errors(401, 404, 422),
            summary="办理记录（哈希链）/ the case's history, hash-chained")
def history(case_id: CaseId, access: AccessDep, services: ServicesDep) -> list[HistoryEntry]:
    with services.db.read() as conn:
        rows = access.history(conn, case_id)
        d = access.cases.machine(conn, access.record(conn, case_id).definition_id).definition
    return [HistoryEntry.of(h, d) for h in rows]


@router.get("/{case_id}/export", response_model=CaseExport, responses=errors(401, 404, 422),
            summary="导出案件及全部记录（JSON）/ export the case with its whole history")
def export_case(case_id: CaseId, access: AccessDep, services: ServicesDep) -> JSONResponse:
    with services.db.read() as conn:
        doc = case_export(conn, access, case_id, services.clock.now())
    name = f"{doc['case']['number']}.json"
    disposition = f"attachment; filename=\"case-{case_id}.json\"; filename*=UTF-8''{quote(name)}"
    return JSONResponse(doc, headers={"Content-Disposition": disposition})
