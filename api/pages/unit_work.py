"""Pages for work inside a unit: the case page's 分办 and 抄送 panels, and 我的委托 (/me/delegation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from api.pages.forms import raw_values, version_of
from api.pages.render import page
from api.pages.session import CSRF_FIELD, PageUser, PageUserDep, check_csrf
from api.pages.views import Organisation
from db.repositories import accounts as accounts_repo
from engine import delegation
from engine.access import CaseAccess, is_party
from engine.acting import user_id_of
from engine.assignment import UnitWork, acting_unit, case_work, may_share
from engine.errors import BadAssignee, EngineError, NotFound

router = APIRouter(include_in_schema=False)
CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@dataclass
class WorkPanel:
    """What the case page shows and offers about 分办 and 抄送 to this viewer."""

    assignees: list[tuple[str, str]] = field(default_factory=list)  # (unit, 承办人)
    mine: str = ""  # my unit's 承办人
    can_assign: bool = False
    can_claim: bool = False
    colleagues: list[tuple[int, str]] = field(default_factory=list)
    can_share: bool = False
    share_units: list[tuple[str, str]] = field(default_factory=list)
    shared: list[tuple[str, datetime]] = field(default_factory=list)
    receipts: list[tuple[str, str, datetime]] = field(default_factory=list)  # (reader, unit, first read)


def panel(conn: Connection, access: CaseAccess, case_id: int) -> WorkPanel:
    case = access.load(conn, case_id)
    org = Organisation(conn, case.task_force_code)
    work = case_work(conn, case.id)
    viewer = access.viewer
    out = WorkPanel(assignees=[(org.name(a.unit), a.name) for a in work.assignees],
                    shared=[(org.name(u), at) for u, _by, at in work.shares],
                    receipts=[(name, org.name(unit), at) for _id, name, unit, at in work.receipts])
    mine = next((a for a in work.assignees if a.unit == viewer.unit), None)
    out.mine = mine.name if mine else ""
    if not case.closed and acting_unit(access, conn, case):
        out.can_assign = True
        out.can_claim = mine is None and user_id_of(viewer.id) is not None
        out.colleagues = [(p.id, p.display_name) for p in accounts_repo.people_of_unit(conn, viewer.unit,
                                                                                       viewer.task_force)
                          if mine is None or p.id != mine.user_id]
    if may_share(access, conn, case):
        out.can_share = True
        already = {u for u, _by, _at in work.shares}
        out.share_units = [(code, u.short_name) for code, u in sorted(org.units.items())
                           if code not in already and not is_party(code, case.parties)]
    return out


def _refused(request: Request, user: PageUser, case_id: int, err: EngineError) -> HTMLResponse:
    from api.pages.cases import _case_page

    status = 403 if err.code in ("assigned_to_another", "not_acting_unit") else (
        409 if err.code in ("work_conflict", "stale_version") else 422)
    return _case_page(request, user, case_id, status=status, work_error=getattr(err, "message_zh", "操作未完成"))


def _act(request: Request, user: PageUser, case_id: int, done: str, action) -> Response:
    services = request.app.state.services
    try:
        with services.db.write() as conn:
            action(conn, UnitWork(user.access))
    except NotFound:
        from api.pages.cases import not_found

        return not_found(request)
    except EngineError as err:
        return _refused(request, user, case_id, err)
    return RedirectResponse(f"/case/{case_id}?done={done}", status_code=303)


def _id(value) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 19 else None


@router.post("/case/{case_id}/assignment", response_class=HTMLResponse)
async def assign(request: Request, case_id: CaseId, user: PageUserDep) -> Response:
    raw = raw_values(await request.form())
    check_csrf(user, raw.pop(CSRF_FIELD, None))
    assignee, (version, good) = _id(raw.get("assignee")), version_of(raw)
    if assignee is None or not good:
        err = BadAssignee("pick a colleague", "请选择本单位的承办人") if good else \
            BadAssignee("the form is stale", "页面已过期，请刷新后重试")
        return await run_in_threadpool(_refused, request, user, case_id, err)
    return await run_in_threadpool(_act, request, user, case_id, "assigned",
                                   lambda conn, w: w.assign(conn, case_id, assignee, expected_version=version))


@router.post("/case/{case_id}/claim", response_class=HTMLResponse)
async def claim(request: Request, case_id: CaseId, user: PageUserDep) -> Response:
    raw = raw_values(await request.form())
    check_csrf(user, raw.pop(CSRF_FIELD, None))
    version, _good = version_of(raw)
    return await run_in_threadpool(_act, request, user, case_id, "claimed",
                                   lambda conn, w: w.claim(conn, case_id, expected_version=version))


@router.post("/case/{case_id}/shares", response_class=HTMLResponse)
async def share(request: Request, case_id: CaseId, user: PageUserDep) -> Response:
    raw = raw_values(await request.form())
    check_csrf(user, raw.pop(CSRF_FIELD, None))
    units = raw.get("units") or []
    units = [units] if isinstance(units, str) else list(units)
    return await run_in_threadpool(_act, request, user, case_id, "shared",
                                   lambda conn, w: w.share(conn, case_id, [str(u)[:60] for u in units]))


# --- 我的委托 ------------------------------------------------------------------------------------


def _delegation_page(request: Request, user: PageUser, *, status: int = 200, error: str = "",
                     values: dict | None = None) -> HTMLResponse:
    services = request.app.state.services
    viewer = user.viewer
    today = delegation.today(services.clock)
    with services.db.read() as conn:
        rows = delegation.delegations_of(conn, viewer) if user_id_of(viewer.id) is not None else []
        me = user_id_of(viewer.id)
        colleagues = [(p.id, p.display_name) for p in accounts_repo.people_of_unit(conn, viewer.unit, viewer.task_force)
                      if p.id != me] if viewer.unit else []
    given = [d for d in rows if d.delegator_id == me]
    held = [d for d in rows if d.delegate_id == me]
    return page(request, "delegation.html", status=status, given=given, held=held, colleagues=colleagues,
                today=today, error=error, values=values or {"starts_on": today.isoformat(),
                                                            "ends_on": today.isoformat()})


@router.get("/me/delegation", response_class=HTMLResponse)
def delegation_page(request: Request, user: PageUserDep) -> HTMLResponse:
    return _delegation_page(request, user)


def _day(value) -> date | None:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        return None


@router.post("/me/delegation", response_class=HTMLResponse)
async def delegate(request: Request, user: PageUserDep) -> Response:
    raw = raw_values(await request.form())
    check_csrf(user, raw.pop(CSRF_FIELD, None))
    return await run_in_threadpool(_delegate, request, user, raw)


def _delegate(request: Request, user: PageUser, raw: dict) -> Response:
    services = request.app.state.services
    delegate_id, starts, ends = _id(raw.get("delegate")), _day(raw.get("starts_on")), _day(raw.get("ends_on"))
    values = {k: str(raw.get(k, "")) for k in ("delegate", "starts_on", "ends_on")}
    if delegate_id is None or starts is None or ends is None:
        return _delegation_page(request, user, status=422, values=values,
                                error="请选择受托人并填写起止日期")
    try:
        with services.db.write() as conn:
            delegation.delegate(conn, user.viewer, services.clock, delegate_id, starts, ends)
    except EngineError as err:
        return _delegation_page(request, user, status=422, values=values,
                                error=getattr(err, "message_zh", "操作未完成"))
    return RedirectResponse("/me/delegation", status_code=303)


@router.post("/me/delegation/{delegation_id}/cancel", response_class=HTMLResponse)
async def cancel(request: Request, delegation_id: CaseId, user: PageUserDep) -> Response:
    raw = raw_values(await request.form())
    check_csrf(user, raw.pop(CSRF_FIELD, None))
    return await run_in_threadpool(_cancel, request, user, delegation_id)


def _cancel(request: Request, user: PageUser, delegation_id: int) -> Response:
    services = request.app.state.services
    try:
        with services.db.write() as conn:
            delegation.cancel(conn, user.viewer, services.clock, delegation_id)
    except EngineError as err:
        return _delegation_page(request, user, status=404 if isinstance(err, NotFound) else 422,
                                error=getattr(err, "message_zh", "操作未完成"))
    return RedirectResponse("/me/delegation", status_code=303)


