"""The office's pages (calendar, overdue work, the ladder, scorecards), the prosecutor's, and public disclosure."""

from __future__ import annotations

import calendar as cal
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import Services
from api.pages import views
from api.pages.render import days_text, page, zh_date
from api.pages.session import OfficeOnly, PageUser, PageUserDep
from db.repositories import calendar_feeds
from db.repositories import organisation as org_repo
from documents import excel, records
from engine.context import LOCAL_TZ
from engine.errors import NotFound

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


def _xlsx(data: bytes, name: str, request: Request) -> Response:
    day = _services(request).clock.now().astimezone(LOCAL_TZ)
    return Response(data, media_type=excel.XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}-{day:%Y%m%d}.xlsx"'})


@router.get("/office/overdue.xlsx")
def overdue_xlsx(request: Request, user: OfficeUserDep) -> Response:
    """The two tables the page shows, one sheet each."""
    services = _services(request)
    with services.db.read() as conn:
        by_unit, by_place, _total = views.overdue_by(conn, user.access, services.clock.now())
    return _xlsx(excel.sheets([("按责任单位", ("单位", "件数"), [(r.name, r.count) for r in by_unit], (30, 10)),
                               ("按地区", ("地区", "件数"), [(r.name, r.count) for r in by_place], (30, 10))]),
                 "overdue", request)


@router.get("/office/ladder.xlsx")
def ladder_xlsx(request: Request, user: OfficeUserDep) -> Response:
    services = _services(request)
    now = services.clock.now()
    with services.db.read() as conn:
        rows = views.ladder(conn, user.access, now)
    return _xlsx(excel.workbook("督办红黄牌", ("督办等级", "被督办单位", "督办事项", "编号", "状态", "期限", "剩余/逾期"),
                                [(r["card"], "、".join(r["units"]), r["title"], r["number"], r["state"],
                                  zh_date(r["due_at"]) if r["due_at"] else "", days_text(r["days"])) for r in rows],
                                (10, 30, 40, 20, 14, 16, 12)), "ladder", request)


@router.get("/office/scorecards.xlsx")
def scorecards_xlsx(request: Request, user: PageUserDep,
                    year: Annotated[int | None, Query(ge=2000, le=2999)] = None) -> Response:
    services = _services(request)
    year = year or services.clock.now().astimezone(LOCAL_TZ).year
    with services.db.read() as conn:
        rows = views.scorecards(conn, user.access, year)
    return _xlsx(excel.workbook(f"{year}年度考核", ("单位", "按期完成", "逾期完成或未完成", "按期率", "当前逾期", "黄牌", "红牌"),
                                [(r["unit"], r["met"], r["late"], "—" if r["rate"] is None else f"{r['rate'] * 100:.1f}%",
                                  r["overdue"], r["yellow"], r["red"]) for r in rows],
                                (30, 10, 16, 10, 10, 8, 8)), f"scorecards-{year}", request)


@router.get("/office/ledgers", response_class=HTMLResponse)
def ledgers(request: Request, user: OfficeUserDep) -> HTMLResponse:
    """The mechanisms' own tables, one download per case that keeps one (e.g. seed 002's 回头看统计表)."""
    services = _services(request)
    with services.db.read() as conn:
        rows = views.ledger_cases(conn, user.access, services.clock.now())
    return page(request, "ledgers.html", rows=rows)


@router.get("/office/ledgers/{case_id}/lookback.xlsx")
def lookback_xlsx(request: Request, user: OfficeUserDep, case_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
                  ) -> Response:
    services = _services(request)
    with services.db.read() as conn:
        try:
            record = user.access.record(conn, case_id)
        except NotFound:
            record = None
        if record is None or not views.keeps_lookbacks(user.access.machine(conn, record).definition):
            return page(request, "message.html", status=404, title="未找到", text="没有这个台账。")
        data = excel.lookback_xlsx(records.load(conn, case_id))
    return _xlsx(data, f"lookback-{case_id}", request)  # a header carries no Chinese number


@router.get("/office/ladder", response_class=HTMLResponse)
def ladder(request: Request, user: OfficeUserDep) -> HTMLResponse:
    services = _services(request)
    with services.db.read() as conn:
        rows = views.ladder(conn, user.access, services.clock.now())
    return page(request, "ladder.html", rows=rows)


@router.get("/office/scorecards", response_class=HTMLResponse)
def scorecards(request: Request, user: PageUserDep, year: Annotated[int | None, Query(ge=2000, le=2999)] = None
               ) -> HTMLResponse:
    services = _services(request)
    year = year or services.clock.now().astimezone(LOCAL_TZ).year
    with services.db.read() as conn:
        rows = views.scorecards(conn, user.access, year)
    return page(request, "scorecards.html", rows=rows, year=year)


@router.get("/office/calendar", response_class=HTMLResponse)
def calendar(request: Request, user: PageUserDep,
             month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
             feed: Annotated[str, Query(pattern=r"^(|revoked)$")] = "") -> HTMLResponse:
    services = _services(request)
    now = services.clock.now()
    local = now.astimezone(LOCAL_TZ)
    year, mon = (int(month[:4]), int(month[5:])) if month else (local.year, local.month)
    if not 1 <= mon <= 12:
        year, mon = local.year, local.month
    with services.db.read() as conn:
        days = views.calendar(conn, user.access, now, year, mon)
        feed_since = calendar_feeds.active(conn, user.me.user_id) if user.me.user_id > 0 else None
    weeks = cal.Calendar(firstweekday=0).monthdayscalendar(year, mon)
    prev = f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"
    nxt = f"{year + 1}-01" if mon == 12 else f"{year}-{mon + 1:02d}"
    return page(request, "calendar.html", year=year, month=mon, weeks=weeks, days=days, prev=prev, next=nxt,
                feed_since=feed_since, feed_revoked=feed == "revoked")


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
    today = services.clock.now().astimezone(LOCAL_TZ)
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
