"""日历订阅: a per-account iCalendar URL a calendar program polls without a session.

The URL carries a random token (only its SHA-256 is stored); making a new one revokes the old, and
停用 revokes it — a revoked or unknown token answers 404, the same as a feed that never existed.
The feed is the account's own: the office's covers its task force, anyone else's their unit.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts import digest, viewer_of
from api.pages.render import page
from api.pages.session import PageUserDep, check_csrf
from db.repositories import accounts as accounts_repo
from db.repositories import calendar_feeds
from engine import ical

router = APIRouter(include_in_schema=False)
PREFIX = "gzc_"


def feed_url(request: Request, token: str) -> str:
    return str(request.base_url).rstrip("/") + f"/calendar/feed/{token}.ics"


@router.post("/calendar/feed", response_class=HTMLResponse)
def make_feed(request: Request, user: PageUserDep, csrf_token: Annotated[str, Form()] = "") -> HTMLResponse:
    check_csrf(user, csrf_token)
    services = request.app.state.services
    if user.me.user_id <= 0:
        return page(request, "message.html", status=403, title="不能订阅", text="只有个人账户可以订阅日历。")
    token = PREFIX + secrets.token_urlsafe(32)
    now = services.clock.now()
    with services.db.write() as conn:
        calendar_feeds.revoke_all(conn, user.me.user_id, now)
        calendar_feeds.insert_feed(conn, user.me.user_id, digest(token), now)
    return page(request, "calendar_feed.html", url=feed_url(request, token))


@router.post("/calendar/feed/revoke")
def revoke_feed(request: Request, user: PageUserDep, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(user, csrf_token)
    services = request.app.state.services
    with services.db.write() as conn:
        calendar_feeds.revoke_all(conn, user.me.user_id, services.clock.now())
    return RedirectResponse("/office/calendar?feed=revoked", status_code=303)


@router.get("/calendar/feed/{token}.ics")
def feed(request: Request, token: Annotated[str, Path(max_length=80, pattern=r"^gzc_[A-Za-z0-9_\-]+$")]) -> Response:
    services = request.app.state.services
    with services.db.read() as conn:
        username = calendar_feeds.username_of(conn, digest(token))
        found = accounts_repo.by_username(conn, username) if username else None
        if found is None:
            return Response("未找到该日历订阅（可能已停用）。\n", status_code=404, media_type="text/plain; charset=utf-8")
        viewer = viewer_of(found[0])
        unit = None if viewer.office else viewer.unit
        body = ical.feed(conn, task_force=viewer.task_force, unit=unit, name=f"共治 {viewer.name}")
    return Response(body, media_type="text/calendar; charset=utf-8", headers={"Cache-Control": "no-store"})
