"""The office's pages (calendar, overdue work, the ladder, scorecards), the prosecutor's, and public disclosure."""

from __future__ import annotations

import calendar as cal
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import Services
from api.pages import office_sheets, views
from api.pages.render import page
from api.pages.session import OfficeOnly, PageUser, PageUserDep
from db.repositories import calendar_feeds
from db.repositories import organisation as org_repo
from documents import excel, records
from engine.errors import NotFound
from engine.localtime import local_date, to_local

router = APIRouter(include_in_schema=False)
# What the public page counts: the problem list's cases, found (opened), rectified (asked to be closed
# out after rectification) and closed out. Named here, not in the engine, which names no mechanism.
DISCLOSED = {"workflow": "problem_item", "rectified": "close_requested", "closed": "closed_out"}
PIL = {"workflow": "pil_case", "awaiting_reply": "awaiting_reply"}


def _services(request: Request) -> Services:
    return request.app.state.services


async def office_user(user: PageUserDep) -> PageUser:
    if not user.viewer.office:
        raise OfficeOnly()
    return user


OfficeUserDep = Annotated[PageUser, Depends(office_user)]


@router.get("/office/overdue", response_class=HTMLResponse)
def overdue(request: Request, user: OfficeUserDep) -> HTMLResponse:
    services = _services(request)
    with services.db.read() as conn:
        by_unit, by_place, total = views.overdue_by(conn, user.access, services.clock.now())
    return page(request, "overdue.html", by_unit=by_unit, by_place=by_place, total=total,
                now=services.clock.now())


@router.get("/office/overdue.xlsx")
def overdue_xlsx(request: Request, user: OfficeUserDep) -> Response:
    services = _services(request)
    now = services.clock.now()
    with services.db.read() as conn:
        by_unit, by_place, _total = views.overdue_by(conn, user.access, now)
    return office_sheets.download(office_sheets.overdue_sheets(by_unit, by_place), "overdue", now)


@router.get("/office/ledgers", response_class=HTMLResponse)
def ledgers(request: Request, user: OfficeUserDep) -> HTMLResponse:
    """The mechanisms' own tables, one download per case that keeps one (e.g. seed 002's 回头看统计表)."""
    services = _services(request)
    with services.db.read() as conn:
        rows = views.ledger_cases(conn, user.access, services.clock.now())
    return page(request, "ledgers.html", rows=rows)


@router.get("/office/ladder", response_class=HTMLResponse)
def ladder(request: Request, user: OfficeUserDep) -> HTMLResponse:
    services = _services(request)
    with services.db.read() as conn:
        rows = views.ladder(conn, user.access, services.clock.now())
    return page(request, "ladder.html", rows=rows)


@router.get("/office/ladder.xlsx")
def ladder_xlsx(request: Request, user: OfficeUserDep) -> Response:
    services = _services(request)
    now = services.clock.now()
    with services.db.read() as conn:
        rows = views.ladder(conn, user.access, now)
    return office_sheets.download(office_sheets.ladder_sheet(rows), "ladder", now)


@router.get("/office/scorecards", response_class=HTMLResponse)
def scorecards(request: Request, user: PageUserDep, year: Annotated[int | None, Query(ge=2000, le=2999)] = None
               ) -> HTMLResponse:
    services = _services(request)
    now = services.clock.now()
    year = year or local_date(now).year
    with services.db.read() as conn:
        spec = services.cases.figures.spec(conn, user.viewer.task_force)
        rows, points = views.scorecards(conn, user.access, spec, year, now)
        # The task force's declared figures (figures.yaml) put every unit side by side: the office's.
        figures = views.figure_rows(conn, services.cases.figures.table(conn, user.viewer.task_force)) \
            if user.viewer.office else []
    return page(request, "scorecards.html", rows=rows, year=year, figures=figures, points=points)


@router.get("/office/scorecards.xlsx")
def scorecards_xlsx(request: Request, user: PageUserDep,
                    year: Annotated[int | None, Query(ge=2000, le=2999)] = None) -> Response:
    services = _services(request)
    now = services.clock.now()
    year = year or local_date(now).year
    with services.db.read() as conn:
        spec = services.cases.figures.spec(conn, user.viewer.task_force)
        rows, points = views.scorecards(conn, user.access, spec, year, now)
        behind = views.points_behind(conn, user.access, spec, year, now, points) if points else []
    return office_sheets.download(office_sheets.scorecard_sheet(year, rows, points, behind),
                                  f"scorecards-{year}", now)


@router.get("/office/scorecards/{unit}", response_class=HTMLResponse)
def scorecard_of_unit(request: Request, user: PageUserDep,
                      unit: Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")],
                      year: Annotated[int | None, Query(ge=2000, le=2999)] = None) -> HTMLResponse:
    """One unit's deductions and bonuses, each with the cases behind it."""
    services = _services(request)
    now = services.clock.now()
    year = year or local_date(now).year
    with services.db.read() as conn:
        spec = services.cases.figures.spec(conn, user.viewer.task_force)
        detail = views.assessment_of_unit(conn, user.access, spec, year, now, unit)
    if detail is None:
        return page(request, "scorecard_unit.html", status=404, detail=None, year=year)
    return page(request, "scorecard_unit.html", detail=detail, year=year)


@router.get("/office/calendar", response_class=HTMLResponse)
def calendar(request: Request, user: PageUserDep,
             month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
             feed: Annotated[str, Query(pattern=r"^(|revoked)$")] = "") -> HTMLResponse:
    services = _services(request)
    now = services.clock.now()
    local = to_local(now)
    year, mon = (int(month[:4]), int(month[5:])) if month else (local.year, local.month)
    if not 1 <= mon <= 12:
        year, mon = local.year, local.month
    with services.db.read() as conn:
        days = views.calendar(conn, user.access, now, year, mon)
        creatable = dict(views.creatable(conn, user.access))
        feed_since = calendar_feeds.active(conn, user.me.user_id) if user.me.user_id > 0 else None
    weeks = cal.Calendar(firstweekday=0).monthdayscalendar(year, mon)
    prev = f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"
    nxt = f"{year + 1}-01" if mon == 12 else f"{year}-{mon + 1:02d}"
    return page(request, "calendar.html", year=year, month=mon, weeks=weeks, days=days, prev=prev, next=nxt,
                creatable=creatable, feed_since=feed_since, feed_revoked=feed == "revoked")


@router.get("/case/{case_id}/lookback.xlsx")
def lookback_xlsx(request: Request, case_id: Annotated[int, Path(ge=1, le=2**63 - 1)], user: PageUserDep) -> Response:
    """The “回头看”情况统计表 of a case whose mechanism keeps one (seed 002's columns), as it stands now."""
    services = _services(request)
    with services.db.read() as conn:
        try:
            record = user.access.record(conn, case_id)
        except NotFound:
            record = None
        if record is None or not excel.keeps_lookbacks(user.access.machine(conn, record).definition):
            return page(request, "message.html", status=404, title="未找到", text="这件事项没有“回头看”情况统计表。")
        data = excel.lookback_xlsx(records.load(conn, case_id))
    name = quote(f"{record.number}-回头看情况统计表.xlsx")
    return Response(data, media_type=excel.XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@router.get("/procurator", response_class=HTMLResponse)
def procurator(request: Request, user: PageUserDep) -> HTMLResponse:
    services = _services(request)
    now = services.clock.now()
    with services.db.read() as conn:
        stages = views.by_stage(conn, user.access, now, PIL["workflow"])
        replies = views.running_deadlines(conn, user.access, now, PIL["workflow"], PIL["awaiting_reply"])
    return page(request, "procurator.html", stages=stages, replies=replies)


@router.get("/public", response_class=HTMLResponse)
def public_index(request: Request) -> Response:
    with _services(request).db.read() as conn:
        forces = org_repo.task_forces(conn)
    if len(forces) == 1:
        return RedirectResponse(f"/public/{forces[0][0]}", status_code=303)
    return page(request, "public_index.html", me=None, forces=forces)


@router.get("/public/{task_force}", response_class=HTMLResponse)
def public(request: Request, task_force: Annotated[str, Path(max_length=40, pattern=r"^[a-z0-9_]+$")],
           year: Annotated[int | None, Query(ge=2000, le=2999)] = None) -> HTMLResponse:
    services = _services(request)
    today = to_local(services.clock.now())
    year = year or today.year
    with services.db.read() as conn:
        force = org_repo.task_force(conn, task_force)
        if force is None:
            return page(request, "message.html", status=404, me=None, title="未找到", text="没有这个联动机制。")
        rows = views.disclosure(conn, task_force, year, **DISCLOSED)
    if year == today.year:
        rows = rows[:today.month]  # months still to come have nothing to publish
    totals = {k: sum(r[k] for r in rows) for k in ("found", "rectified", "closed")}
    return page(request, "public.html", me=None, force_name=force[1], year=year, rows=rows, totals=totals,
                task_force=task_force)
