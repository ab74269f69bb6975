"""Who is looking at a page: the session cookie, else a redirect to the sign-in page; forms carry the CSRF token."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from api.accounts import csrf_for, viewer_of
from api.auth import SESSION_COOKIE
from api.deps import Services
from db.repositories import accounts as accounts_repo
from db.repositories import notices as notices_repo
from db.repositories import organisation as org_repo
from engine.access import CaseAccess, Viewer

CSRF_FIELD = "csrf_token"


class SignInNeeded(Exception):
    """No valid session: the page answers with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class OfficeOnly(Exception):
    """A page of the office's, asked for by someone else."""


class BadCsrf(Exception):
    """A form came without the session's CSRF token."""


@dataclass(frozen=True)
class Me:
    """The header: who I am, my unit and my roles, in words."""

    name: str
    login: str
    unit: str
    unit_name: str
    roles: list[str]
    office: bool
    procurator: bool
    # notices I have not read yet (the header's count on every page)
    unread: int = 0
    user_id: int = -1


def _look_up(services: Services, secret: str):
    with services.db.read() as conn:
        account = services.accounts.by_token(conn, secret, services.clock.now())
        if account is None:
            return None, None
        unit_name = accounts_repo.unit_short_name(conn, account.unit_code) or account.unit_code
        tf = org_repo.task_force_roles(conn, account.task_force_code)
        user_id = account.id if account.kind == "user" else -1
        unread = notices_repo.unread_count(conn, account.unit_code, user_id) if user_id > 0 else 0
    titles = {r["code"]: r["title"] for r in tf}
    me = Me(account.display_name, account.login, account.unit_code, unit_name,
            [titles.get(r, r) for r in sorted(account.roles)], account.office,
            bool({"procurator", "chief_procurator"} & set(account.roles)), unread, user_id)
    return account, me


@dataclass(frozen=True)
class PageUser:
    viewer: Viewer
    me: Me
    access: CaseAccess
    csrf: str


async def page_user(request: Request) -> PageUser:
    services: Services = request.app.state.services
    secret = request.cookies.get(SESSION_COOKIE)
    found = await run_in_threadpool(_look_up, services, secret) if secret else (None, None)
    account, me = found
    if account is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target)
    viewer = viewer_of(account)
    request.state.viewer = viewer
    request.state.page_me = me
    request.state.page_csrf = csrf_for(secret)
    return PageUser(viewer, me, CaseAccess(services.cases, viewer), request.state.page_csrf)


PageUserDep = Annotated[PageUser, Depends(page_user)]


def check_csrf(user: PageUser, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent.encode(), user.csrf.encode()):
        raise BadCsrf()


def login_url(next_url: str) -> str:
    return f"/login?next={quote(next_url)}"
