"""Who is calling: a bearer token, an API key, or a session cookie (pages) — else 401.

Cookie-authenticated unsafe requests must repeat the CSRF token in X-CSRF-Token: a page on another
site can make the browser send the cookie, but cannot read the token to copy it.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.accounts import KEY_PREFIX, csrf_for, viewer_of
from api.errors import ApiError, not_authenticated
from engine.access import Viewer

SESSION_COOKIE = "gongzhi_session"
CSRF_COOKIE = "gongzhi_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="POST /auth/token 得到的令牌 / a token from POST /auth/token (or an API key)")
api_key = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKey",
                       description="系统对接密钥 / an API key for another system (gongzhi apikey add)")
session = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="sessionCookie",
                       description="网页会话 / the page session from POST /auth/session; unsafe requests also need "
                                   "the X-CSRF-Token header")


def credential(creds: HTTPAuthorizationCredentials | None, key: str | None,
               cookie: str | None) -> tuple[str, str] | None:
    """(kind, secret) of the credential the request carries: key, token or cookie."""
    if key:
        return "key", key
    if creds is not None and creds.credentials:
        return ("key" if creds.credentials.startswith(KEY_PREFIX) else "token"), creds.credentials
    if cookie:
        return "cookie", cookie
    return None


def _look_up(services, kind: str, secret: str):
    with services.db.read() as conn:
        if kind == "key":
            return services.accounts.by_key(conn, secret)
        return services.accounts.by_token(conn, secret, services.clock.now())


async def authenticate(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
                       key: Annotated[str | None, Depends(api_key)],
                       cookie: Annotated[str | None, Depends(session)]) -> Viewer:
    services = request.app.state.services
    found = credential(creds, key, cookie)
    if found is None:
        raise not_authenticated("no credentials: send Authorization: Bearer <token>, X-API-Key, or sign in")
    kind, secret = found
    now = services.clock.now()
    account = services.accounts.cached(secret, now)
    if account is None:
        # The look-up is a database read: off the event loop.
        account = await run_in_threadpool(_look_up, services, kind, secret)
        if account is not None:
            services.accounts.remember(secret, account, now)
    if account is None:
        raise not_authenticated("the token or key is unknown, expired or revoked")
    if kind == "cookie" and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_for(secret).encode()):
            raise ApiError(403, "csrf_failed", "页面已过期或请求来源不明，请刷新页面后重试",
                           f"cookie-authenticated {request.method} needs the {CSRF_HEADER} header from sign-in")
    viewer = viewer_of(account)
    request.state.viewer = viewer  # the access log reads it
    request.state.account = account
    return viewer
