"""The office manages its people: accounts of its task force listed, added, disabled and enabled, a
password reset (shown once), roles and unit changed — each change recorded and listed on the page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts import USERNAME_RE
from api.deps import Services
from api.pages.forms import raw_values, text_error
from api.pages.office import OfficeUserDep
from api.pages.render import page
from api.pages.session import CSRF_FIELD, PageUser, check_csrf
from api.pages.views import Organisation
from db.repositories import accounts as repo
from db.repositories import organisation as org_repo
from engine.errors import BadPayload

router = APIRouter(include_in_schema=False)
UserId = Annotated[int, Path(ge=1, le=2**63 - 1)]
CHANGES = {"created": "新增账户", "disabled": "停用", "enabled": "启用", "password_reset": "重置密码",
           "roles": "调整角色", "unit": "调整所在单位"}
DONE = {"disabled": "已停用账户", "enabled": "已启用账户", "edited": "已保存账户的角色和单位"}


class Stale(Exception):
    """The account changed since the page was drawn."""


def _services(request: Request) -> Services:
    return request.app.state.services


def fingerprint(u: repo.UserRow) -> str:
    """What the form was drawn from: a change by someone else since makes the form stale (409)."""
    return f"{int(u.active)}|{u.unit_code}|{','.join(sorted(u.roles))}"


def _role_titles(conn, task_force: str) -> dict[str, str]:
    return {r["code"]: r["title"] for r in org_repo.task_force_roles(conn, task_force)}


def _page(request: Request, user: PageUser, *, status: int = 200, notice: str = "", error: str = "",
          shown_once: tuple[str, str] | None = None, values: dict | None = None) -> HTMLResponse:
    services = _services(request)
    tf = user.viewer.task_force
    with services.db.read() as conn:
        people = repo.users_of(conn, tf)
        titles = _role_titles(conn, tf)
        changes = repo.changes_of(conn, tf)
        org = Organisation(conn, tf)
    return page(request, "accounts.html", status=status, people=people, titles=titles, changes=changes,
                change_words=CHANGES, units=org.unit_groups(), notice=notice, error=error,
                shown_once=shown_once, values=values or {}, fingerprint=fingerprint, unit_name=org.name,
                role_names=lambda roles: "、".join(titles.get(r, r) for r in roles))


@router.get("/office/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, user: OfficeUserDep, done: str = "") -> HTMLResponse:
    return _page(request, user, notice=DONE.get(done, ""))


def _roles_and_unit(conn, user: PageUser, raw: dict) -> tuple[list[str], str]:
    roles = raw.get("roles", [])
    roles = [roles] if isinstance(roles, str) else list(roles)
    roles = [r for r in roles if r]
    known = _role_titles(conn, user.viewer.task_force)
    if not roles:
        raise BadPayload("roles", "请至少选择一个角色")
    if any(r not in known for r in roles):
        raise BadPayload("roles", "角色不属于本专班")
    unit = str(raw.get("unit", "")).strip()
    if not unit or not repo.unit_in_task_force(conn, unit, user.viewer.task_force):
        raise BadPayload("unit", "请选择本专班的单位")
    return list(dict.fromkeys(roles)), unit


@router.post("/office/accounts", response_class=HTMLResponse)
async def add(request: Request, user: OfficeUserDep) -> Response:
    raw = raw_values(await request.form())
    check_csrf(user, raw.pop(CSRF_FIELD, None))
    return await run_in_threadpool(_add, request, user, raw)


def _add(request: Request, user: PageUser, raw: dict) -> Response:
    services = _services(request)
    username = str(raw.get("username", "")).strip()
    name = str(raw.get("display_name", "")).strip()
    password = secrets.token_urlsafe(9)  # 12 characters, shown once
    now = services.clock.now()
    try:
        if not USERNAME_RE.match(username):
            raise BadPayload("username", "用户名为1至60个字母、数字或 . _ @ -")
        if not name or text_error(name, 100):
            raise BadPayload("display_name", "请填写姓名（不超过100字）")
        with services.db.write() as conn:
            if repo.username_taken(conn, username):
                raise BadPayload("username", f"用户名“{username}”已被使用")
            roles, unit = _roles_and_unit(conn, user, raw)
            services.accounts.create_user(conn, username=username, display_name=name, unit=unit,
                                          task_force=user.viewer.task_force, roles=roles, password=password, now=now)
            repo.record_change(conn, at=now, task_force=user.viewer.task_force, actor=user.me.login,
                               username=username, change="created", detail={"roles": roles, "unit": unit})
    except BadPayload as err:
        return _page(request, user, status=422, error=f"未能新增账户：{err.reason}", values=raw)
    return _page(request, user, notice=f"已新增账户 {username}", shown_once=(username, password))


async def _form(request: Request, user: PageUser) -> dict:
    raw = raw_values(await request.form())
    check_csrf(user, raw.pop(CSRF_FIELD, None))
    return raw


def _change(request: Request, user: PageUser, user_id: int, raw: dict, action: str) -> Response:
    services = _services(request)
    tf = user.viewer.task_force
    now = services.clock.now()
    password = None
    try:
        with services.db.write() as conn:
            target = repo.user_of(conn, tf, user_id)
            if target is None:
                return page(request, "message.html", status=404, title="未找到", text="没有这个账户。")
            if raw.get("drawn") != fingerprint(target):
                raise Stale()
            record = {"at": now, "task_force": tf, "actor": user.me.login, "username": target.username}
            if action in ("disable", "enable"):
                if target.id == user.me.user_id:
                    raise BadPayload("active", "不能停用或启用自己的账户")
                repo.set_active(conn, target.id, action == "enable")
                repo.record_change(conn, **record, change="enabled" if action == "enable" else "disabled")
            elif action == "reset":
                password = secrets.token_urlsafe(9)
                repo.set_password_hash(conn, target.id, services.accounts.passwords.hash(password))
                repo.end_sign_ins(conn, target.id)
                repo.record_change(conn, **record, change="password_reset")
            else:
                roles, unit = _roles_and_unit(conn, user, raw)
                if target.id == user.me.user_id and set(target.roles) - set(roles):
                    raise BadPayload("roles", "不能减少自己的角色，请由其他办公室人员调整")
                repo.set_roles_and_unit(conn, target.id, roles, unit)
                if sorted(roles) != sorted(target.roles):
                    repo.record_change(conn, **record, change="roles",
                                       detail={"from": list(target.roles), "to": roles})
                if unit != target.unit_code:
                    repo.record_change(conn, **record, change="unit", detail={"from": target.unit_code, "to": unit})
        services.accounts.forget_cached()
    except Stale:
        return _page(request, user, status=409, error="账户已被他人修改，请查看最新情况后重试")
    except BadPayload as err:
        return _page(request, user, status=422, error=f"未能办理：{err.reason}")
    if password is not None:
        return _page(request, user, notice=f"已重置 {target.username} 的密码", shown_once=(target.username, password))
    return RedirectResponse(f"/office/accounts?done={'edited' if action == 'edit' else action + 'd'}",
                            status_code=303)


@router.post("/office/accounts/{user_id}/{action}", response_class=HTMLResponse)
async def change(request: Request, user_id: UserId, action: Annotated[str, Path(pattern="^(disable|enable|reset|edit)$")],
                 user: OfficeUserDep) -> Response:
    raw = await _form(request, user)
    return await run_in_threadpool(_change, request, user, user_id, raw, action)
