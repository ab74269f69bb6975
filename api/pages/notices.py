"""消息: the notices the rules sent my unit or me, newest first; opening one marks it read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.pages.render import page
from api.pages.session import PageUserDep, check_csrf
from db.repositories import notices as repo

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 30


@router.get("/messages", response_class=HTMLResponse)
def messages(request: Request, user: PageUserDep, p: Annotated[int, Query(ge=1, le=10**6)] = 1,
             unread: bool = False) -> HTMLResponse:
    services = request.app.state.services
    me = user.me
    with services.db.read() as conn:
        rows = repo.notices_for(conn, me.unit, me.user_id, limit=PAGE_SIZE, offset=(p - 1) * PAGE_SIZE,
                                unread_only=unread)
        total = repo.count_for(conn, me.unit, me.user_id)
    pages = max(1, -(-total // PAGE_SIZE))
    return page(request, "messages.html", rows=rows, p=p, pages=pages, total=total, unread_only=unread)


@router.get("/messages/{notice_id}", response_class=HTMLResponse)
def open_message(request: Request, notice_id: Annotated[int, Path(ge=1, le=2**62)], user: PageUserDep) -> Response:
    """Mark it read and go to its case (a GET that writes: it only records that I opened it)."""
    services = request.app.state.services
    me = user.me
    with services.db.write() as conn:
        mine = repo.notices_for(conn, me.unit, me.user_id, limit=1, since=None, only_id=notice_id)
        if not mine:
            return page(request, "message.html", status=404, title="未找到", text="该消息不存在或不属于本单位。")
        repo.mark_read(conn, me.unit, me.user_id, [notice_id], services.clock.now())
    target = f"/case/{mine[0].case_id}" if mine[0].case_id else "/messages"
    return RedirectResponse(target, status_code=303)


@router.post("/messages/read")
def mark_all_read(request: Request, user: PageUserDep, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(user, csrf_token)
    services = request.app.state.services
    with services.db.write() as conn:
        repo.mark_read(conn, user.me.unit, user.me.user_id, None, services.clock.now())
    return RedirectResponse("/messages", status_code=303)
