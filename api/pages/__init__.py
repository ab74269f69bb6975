"""Server-rendered pages over the same services and access rules as the JSON API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.pages import (
    calendar_feed,
    cases,
    channels,
    notices,
    office,
    operations,
    people,
    search,
    unit_work,
    work,
)
from api.pages.render import page
from api.pages.session import BadCsrf, OfficeOnly, SignInNeeded, login_url


def install(app: FastAPI) -> None:
    """Add the page routers and turn "not signed in" and a stale form into pages, not JSON."""
    app.include_router(work.router)
    app.include_router(cases.router)
    app.include_router(unit_work.router)
    app.include_router(office.router)
    app.include_router(calendar_feed.router)
    app.include_router(notices.router)
    app.include_router(search.router)
    app.include_router(channels.router)
    app.include_router(operations.router)
    app.include_router(people.router)
    # The pages' script as a file: the Content-Security-Policy allows no inline script.
    app.mount("/static", StaticFiles(directory=Path(__file__).resolve().parent.parent / "static"), name="static")

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> RedirectResponse:
        return RedirectResponse(login_url(exc.next_url), status_code=303)

    @app.exception_handler(OfficeOnly)
    async def _office_only(request: Request, exc: OfficeOnly) -> HTMLResponse:
        return page(request, "message.html", status=403, title="仅专班办公室可见", text="本页仅供专班办公室使用。")

    @app.exception_handler(BadCsrf)
    async def _csrf(request: Request, exc: BadCsrf) -> HTMLResponse:
        return page(request, "message.html", status=403, me=None, title="页面已过期",
                    text="页面已过期或请求来源不明，请返回刷新页面后重试。")
