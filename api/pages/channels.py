"""通知渠道: the office lists, adds, disables and tests where its task force's notices are also sent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.notify.channels import KINDS, shown_target
from api.notify.delivery import send_test
from api.notify.manage import OWNER_KINDS, ChannelRefused, add_channel
from api.pages.forms import Form as FormState
from api.pages.office import OfficeUserDep
from api.pages.render import page
from api.pages.session import PageUser, check_csrf
from db.repositories import channels as repo
from db.repositories import deliveries as deliveries_repo

router = APIRouter(include_in_schema=False)
ChannelId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DONE = {"added": "已新增通知渠道", "disabled": "已停用通知渠道", "enabled": "已启用通知渠道"}
OUTCOMES = {"sent": "已发送", "failed": "发送失败", "deferred": "已顺延", "gave_up": "已放弃"}


def _owners(conn, user: PageUser):
    units, users = repo.task_force_owners(conn, user.viewer.task_force)
    return units, users, ({u.code for u in units}, {u.username for u in users})


def _page(request: Request, user: PageUser, *, form: FormState | None = None, notice: str = "",
          test: tuple[int, bool, str] | None = None, status: int = 200) -> HTMLResponse:
    services = request.app.state.services
    with services.db.read() as conn:
        units, users, (unit_codes, usernames) = _owners(conn, user)
        rows = repo.of_owners(conn, unit_codes, usernames)
        last = deliveries_repo.last_outcomes(conn, [r.id for r in rows])
    names = {("unit", u.code): u.name for u in units}
    names.update({("user", u.username): f"{u.display_name}（{u.username}）" for u in users})
    groups: dict[tuple[str, str], list] = {}
    for r in rows:
        groups.setdefault((r.owner_kind, r.owner), []).append({
            "id": r.id, "kind": KINDS.get(r.kind, r.kind), "target": shown_target(r.kind, r.target),
            "signed": bool(r.secret), "enabled": r.enabled, "created_at": r.created_at,
            "last": last.get(r.id), "last_outcome": OUTCOMES.get(last[r.id].outcome, "") if r.id in last else ""})
    owned = [{"kind": OWNER_KINDS[k], "name": names.get((k, o), o), "channels": chs}
             for (k, o), chs in groups.items()]
    return page(request, "channels.html", status=status, owned=owned, units=units, users=users, kinds=KINDS,
                form=form or FormState(), notice=notice, test=test)


def _mine(request: Request, user: PageUser, channel_id: int):
    """The channel when it belongs to a unit or an account of the office's task force, else None."""
    with request.app.state.services.db.read() as conn:
        channel = repo.get(conn, channel_id)
        if channel is None:
            return None
        _, _, (unit_codes, usernames) = _owners(conn, user)
    allowed = unit_codes if channel.owner_kind == "unit" else usernames
    return channel if channel.owner in allowed else None


def _not_found(request: Request) -> HTMLResponse:
    return page(request, "message.html", status=404, title="未找到", text="没有这个通知渠道。")


@router.get("/office/channels", response_class=HTMLResponse)
def channels(request: Request, user: OfficeUserDep, done: str = "") -> HTMLResponse:
    return _page(request, user, notice=DONE.get(done, ""))


@router.post("/office/channels", response_class=HTMLResponse)
def add(request: Request, user: OfficeUserDep, owner: Annotated[str, Form(max_length=100)] = "",
        kind: Annotated[str, Form(max_length=20)] = "", target: Annotated[str, Form(max_length=2000)] = "",
        secret: Annotated[str, Form(max_length=2000)] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(user, csrf_token)
    services = request.app.state.services
    owner_kind, _, owner_code = owner.partition(":")
    typed = {"owner": owner, "kind": kind, "target": target}  # the secret is never echoed back
    try:
        with services.db.write() as conn:
            _, _, allowed = _owners(conn, user)
            add_channel(conn, owner_kind=owner_kind, owner=owner_code, kind=kind, target=target, secret=secret,
                        now=services.clock.now(), allowed_owners=allowed)
    except ChannelRefused as exc:
        form = FormState(values=typed, errors=exc.errors, message="请更正标注的内容")
        return _page(request, user, form=form, status=422)
    return RedirectResponse("/office/channels?done=added", status_code=303)


def _switch(request: Request, user: PageUser, channel_id: int, csrf_token: str, enabled: bool) -> Response:
    check_csrf(user, csrf_token)
    if _mine(request, user, channel_id) is None:
        return _not_found(request)
    with request.app.state.services.db.write() as conn:
        repo.set_enabled(conn, channel_id, enabled)
    return RedirectResponse(f"/office/channels?done={'enabled' if enabled else 'disabled'}", status_code=303)


@router.post("/office/channels/{channel_id}/disable", response_class=HTMLResponse)
def disable(request: Request, channel_id: ChannelId, user: OfficeUserDep,
            csrf_token: Annotated[str, Form()] = "") -> Response:
    return _switch(request, user, channel_id, csrf_token, False)


@router.post("/office/channels/{channel_id}/enable", response_class=HTMLResponse)
def enable(request: Request, channel_id: ChannelId, user: OfficeUserDep,
           csrf_token: Annotated[str, Form()] = "") -> Response:
    return _switch(request, user, channel_id, csrf_token, True)


@router.post("/office/channels/{channel_id}/test", response_class=HTMLResponse)
def test(request: Request, channel_id: ChannelId, user: OfficeUserDep,
         csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(user, csrf_token)
    if _mine(request, user, channel_id) is None:
        return _not_found(request)
    services = request.app.state.services
    result = send_test(services.db, services.clock, services.settings, channel_id)
    if result is None:
        return _not_found(request)
    return _page(request, user, test=(channel_id, result.ok, result.detail))
