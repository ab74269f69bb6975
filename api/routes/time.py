"""Time views: due and overdue work, per-unit scorecards, iCalendar feeds; and a case's links."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.deps import AccessDep, ServicesDep
from api.errors import ApiError
from api.routes.cases import CaseId
from api.schemas.common import errors
from api.schemas.time import DueItemRead, LinkRead, ScorecardRead
from db.repositories import cases as cases_repo
from db.repositories import organisation as org_repo
from documents.excel import XLSX, due_list_xlsx
from engine import ical, views
from engine.deadlines import provisional_dues
from engine.localtime import end_of_local_day, local_date, start_of_local_day

router = APIRouter(tags=["time"])
UnitCode = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]


def _end_of(day: date | None, now: datetime) -> datetime:
    if day is None:
        return now
    if not date(1900, 1, 1) <= day <= date(2999, 12, 31):
        raise ApiError(422, "validation_error", "日期超出范围", "the date must lie in 1900-2999", field="as_of")
    return end_of_local_day(day)


def _due(access, services, as_of: date | None, unit: str | None, jurisdiction: str | None,
         overdue: bool) -> list[tuple[DueItemRead, Any]]:
    """The due items the viewer may see, each with its case's definition."""
    now = services.clock.now()
    moment = _end_of(as_of, now)
    with services.db.read() as conn:
        items = views.due_items(conn, moment, task_force=access.viewer.task_force, unit=unit,
                                jurisdiction=jurisdiction, overdue_only=overdue)
        out = []
        provisional = provisional_dues(conn, {i.case_id for i in items})
        for item in items:
            case = cases_repo.load(conn, item.case_id)
            if case is not None and access.visible(conn, case):
                days = (local_date(moment) - local_date(item.due_at)).days
                reason = provisional.get(item.case_id)
                out.append((DueItemRead(**item.__dict__, days_overdue=max(days, 0) if item.overdue else 0,
                                        provisional=reason is not None, provisional_reason=reason),
                            access.machine(conn, case).definition))
    return out


@router.get("/due", response_model=list[DueItemRead], responses=errors(401, 422),
            summary="到期与逾期事项 / what is due or overdue as of a date, by unit or jurisdiction")
def due_work(access: AccessDep, services: ServicesDep, as_of: date | None = None, unit: UnitCode = None,
        jurisdiction: UnitCode = None, overdue: bool = False) -> list[DueItemRead]:
    return [item for item, _ in _due(access, services, as_of, unit, jurisdiction, overdue)]


@router.get("/due.xlsx", response_class=Response, responses={
    200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}, **errors(401, 422)},
    summary="到期与逾期事项（Excel）/ the same list as a spreadsheet; provisional dates are marked 暂定")
def due_work_xlsx(access: AccessDep, services: ServicesDep, as_of: date | None = None, unit: UnitCode = None,
                  jurisdiction: UnitCode = None, overdue: bool = False) -> Response:
    found = _due(access, services, as_of, unit, jurisdiction, overdue)
    with services.db.read() as conn:
        names = {r[0]: r[2] for r in org_repo.units(conn)}
    rows = [{**item.model_dump(), "workflow": d.title,
             "state": d.states[item.state].title if item.state in d.states else item.state,
             "unit": names.get(item.unit, item.unit)} for item, d in found]
    return Response(due_list_xlsx(rows), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="due.xlsx"'})


@router.get("/scorecards", response_model=list[ScorecardRead], responses=errors(401, 422),
            summary="年度考核：各单位按期办结率、逾期与督办 / per-unit scorecards for a year")
def unit_scorecards(access: AccessDep, services: ServicesDep,
               year: Annotated[int, Query(ge=2000, le=2999)] = 2026) -> list[ScorecardRead]:
    since, until = start_of_local_day(date(year, 1, 1)), start_of_local_day(date(year + 1, 1, 1))
    with services.db.read() as conn:
        cards = views.scorecards(conn, access.viewer.task_force, since, until, services.clock.now())
    # The office assesses every unit; a unit sees its own record.
    if not access.viewer.office:
        cards = {u: c for u, c in cards.items() if u == access.viewer.unit}
    return [ScorecardRead(unit=c.unit, deadlines_met=c.deadlines_met, deadlines_late=c.deadlines_late,
                          on_time_rate=c.on_time_rate, open_overdue=c.open_overdue, cards=dict(c.cards))
            for c in sorted(cards.values(), key=lambda c: c.unit)]


@router.get("/calendar.ics", response_class=Response, responses={
    200: {"content": {"text/calendar": {"schema": {"type": "string"}}}, "description": "RFC 5545"},
    **errors(401, 422)}, summary="日历订阅 / iCalendar feed of meetings and deadlines (mine, or the task force's)")
def calendar_feed(access: AccessDep, services: ServicesDep, unit: UnitCode = None) -> Response:
    viewer = access.viewer
    if not viewer.office:
        unit = viewer.unit  # a unit's feed is its own
    with services.db.read() as conn:
        body = ical.feed(conn, task_force=viewer.task_force, unit=unit, name=f"共治 {unit or viewer.task_force}")
    return Response(body, media_type="text/calendar; charset=utf-8")


@router.get("/cases/{case_id}/links", response_model=list[LinkRead], responses=errors(401, 404, 422),
            summary="关联案件 / linked cases (ladder episodes, escalations, decisions, clues)")
def case_links(case_id: CaseId, access: AccessDep, services: ServicesDep) -> list[LinkRead]:
    with services.db.read() as conn:
        access.load(conn, case_id)
        out = []
        linked = views.links(conn, case_id)
        others = cases_repo.load_many(conn, (other for _d, _k, other, _n in linked))
        for direction, kind, other, number in linked:
            case = others.get(other)
            if case is not None and access.visible(conn, case):
                out.append(LinkRead(direction=direction, kind=kind, case_id=other, number=number))
    return out
