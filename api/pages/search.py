"""综合查询: the search box on every page (a case number opens its case) and the list of every case I
may see — filtered, sorted, paged — with an Excel download of exactly the rows the list shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from api.pages.render import days_left, days_text, page, zh_date
from api.pages.session import PageUser, PageUserDep
from api.pages.views import Organisation, colour, ladder_levels
from db.repositories import cases as cases_repo
from db.repositories.case_queries import CaseFilter
from documents.excel import workbook
from engine.errors import NotFound
from engine.localtime import start_of_local_day, to_local

router = APIRouter(include_in_schema=False)
PAGE = 50
SORTS = {"-updated_at": "最近办理", "due_at": "期限最早", "-created_at": "最新建立", "number": "编号"}
Code = Annotated[str, Query(max_length=60, pattern=r"^[A-Za-z0-9_\-]*$")]


@dataclass(frozen=True)
class Listing:
    rows: list[dict]
    total: int
    choices: dict


def _filter(q: str, workflow: str, state: str, unit: str, jurisdiction: str, status: str, due_before: date | None,
            sort: str, p: int, limit: int = PAGE, mine: str = "") -> CaseFilter:
    # As the JSON API reads it: due before the start of that Beijing day.
    end = start_of_local_day(due_before) if due_before else None
    return CaseFilter(workflow=workflow or None, state=state or None, unit=unit or None,
                      jurisdiction=jurisdiction or None, closed={"open": False, "closed": True}.get(status),
                      overdue=True if status == "overdue" else None, due_before=end, q=q.strip() or None,
                      my_role=mine or None,
                      sort=sort if sort in SORTS else "-updated_at", limit=limit, offset=(p - 1) * limit)


def _listing(conn: Connection, user: PageUser, f: CaseFilter, now: datetime) -> Listing:
    records, total = user.access.search(conn, f, now)
    org = Organisation(conn, user.viewer.task_force)
    rows = []
    levels = ladder_levels(conn, user.access, records)
    for r in records:
        d = user.access.machine(conn, r).definition
        lead = next(iter(r.parties.values()), [None])[0] if r.parties else None
        days = days_left(r.due_at, now) if r.due_at and not r.closed else None
        rows.append({"record": r, "workflow": d.title, "state": d.states[r.state].title if r.state in d.states else "",
                     "units": "、".join(dict.fromkeys(org.name(u) for us in r.parties.values() for u in us)),
                     "lead": org.name(lead), "days": days,
                     "colour": colour(days, levels[r.id], d.due_soon_days),
                     "days_text": days_text(days) if r.due_at and not r.closed
                     else ("已办结" if r.closed else "无期限")})
    workflows: dict[str, str] = {}
    states: dict[str, str] = {}
    roles: dict[str, str] = {}  # party roles my unit may hold: of the chosen workflow, else of every one
    for row in user.access.definitions(conn):
        d = user.access.cases.machine(conn, row.id).definition
        workflows.setdefault(d.name, d.title)
        if f.workflow == d.name:
            states.update({s: spec.title for s, spec in d.states.items()})
        if not f.workflow or f.workflow == d.name:
            for r, spec in d.roles.items():
                if spec.kind == "party":
                    roles.setdefault(r, spec.title or r)
    units = {c: u.short_name for c, u in sorted(org.units.items(), key=lambda kv: kv[1].jurisdiction)}
    places = {c: name for c, (name, _parent) in org.jurisdictions.items()}
    return Listing(rows, total, {"workflows": workflows, "states": states, "units": units, "places": places,
                                 "roles": dict(sorted(roles.items(), key=lambda kv: kv[1]))})


@router.get("/search", response_class=HTMLResponse)
def case_list(request: Request, user: PageUserDep, q: Annotated[str, Query(max_length=100)] = "",
              workflow: Code = "", state: Code = "", unit: Code = "", jurisdiction: Code = "",
              status: Annotated[str, Query(pattern=r"^(|open|closed|overdue)$")] = "",
              due_before: date | None = None, sort: Annotated[str, Query(max_length=20)] = "-updated_at",
              p: Annotated[int, Query(ge=1, le=100_000)] = 1, mine: Code = "") -> Response:
    """A case number goes straight to its case; words search the full text of every case I may see;
    the filters narrow the list."""
    services = request.app.state.services
    now = services.clock.now()
    term = q.strip()
    if term and not (workflow or state or unit or jurisdiction or status or due_before or mine):
        with services.db.read() as conn:
            ref = cases_repo.find_by_number(conn, term, user.access.viewer.task_force)
            if ref is not None:
                try:
                    user.access.record(conn, ref.id)
                except NotFound:  # not mine to see: the full-text search below finds nothing either
                    pass
                else:
                    return RedirectResponse(f"/case/{ref.id}", status_code=303)
    f = _filter(q, workflow, state, unit, jurisdiction, status, due_before, sort, p, mine=mine)
    with services.db.read() as conn:
        listing = _listing(conn, user, f, now)
    params = {"q": q, "workflow": workflow, "state": state, "unit": unit, "jurisdiction": jurisdiction,
              "status": status, "due_before": due_before.isoformat() if due_before else "", "mine": mine,
              "sort": f.sort}
    query = urlencode({k: v for k, v in params.items() if v})
    pages = max(1, -(-listing.total // PAGE))
    return page(request, "cases.html", listing=listing, params=params, query=query, p=p, pages=pages,
                sorts=SORTS, first=f.offset + 1, last=f.offset + len(listing.rows))


@router.get("/search.xlsx")
def case_list_xlsx(request: Request, user: PageUserDep, q: Annotated[str, Query(max_length=100)] = "",
                   workflow: Code = "", state: Code = "", unit: Code = "", jurisdiction: Code = "",
                   status: Annotated[str, Query(pattern=r"^(|open|closed|overdue)$")] = "",
                   due_before: date | None = None, sort: Annotated[str, Query(max_length=20)] = "-updated_at",
                   p: Annotated[int, Query(ge=1, le=100_000)] = 1, mine: Code = "") -> Response:
    """Exactly the rows the list shows on that page."""
    services = request.app.state.services
    now = services.clock.now()
    f = _filter(q, workflow, state, unit, jurisdiction, status, due_before, sort, p, mine=mine)
    with services.db.read() as conn:
        listing = _listing(conn, user, f, now)
    rows = [[r["record"].number, r["record"].title, r["workflow"], r["state"], r["units"],
             zh_date(r["record"].due_at) if r["record"].due_at else "", r["days_text"], zh_date(r["record"].updated_at)]
            for r in listing.rows]
    data = workbook("案件清单", ["编号", "事项", "类型", "状态", "相关单位", "期限", "剩余/逾期", "最近办理"], rows,
                    [18, 40, 16, 14, 36, 16, 12, 16])
    name = f"cases-{to_local(now):%Y%m%d}.xlsx"
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
