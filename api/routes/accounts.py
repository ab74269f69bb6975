"""Signing in and out, and who I am."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from api.accounts import SignedIn, SignInThrottled, csrf_for
from api.auth import CSRF_COOKIE, SESSION_COOKIE, bearer, credential, session
from api.deps import CurrentViewer, Services, ServicesDep
from api.errors import ApiError
from api.schemas.accounts import Me, Password, SessionRead, SignIn, TokenRead, Username
from api.schemas.common import errors
from db.repositories import accounts as accounts_repo
from db.repositories.accounts import Account

router = APIRouter(tags=["accounts"])


def _me(services: Services, account: Account) -> Me:
    with services.db.read() as conn:
        unit_name = accounts_repo.unit_short_name(conn, account.unit_code)
    return Me(id=f"{account.kind}:{account.id}", kind=account.kind, login=account.login,
              display_name=account.display_name, unit=account.unit_code, unit_name=unit_name,
              task_force=account.task_force_code, roles=sorted(account.roles), office=account.office)


def source_of(request: Request) -> str:
    """The address a sign-in comes from, as the throttle counts it."""
    return request.client.host if request.client else "unknown"


def _sign_in(request: Request, services: Services, username: str, password: str, kind: str) -> SignedIn:
    # The attempt is recorded in this transaction, so it commits whatever the answer.
    with services.db.write() as conn:
        signed = services.accounts.sign_in(conn, username, password, kind, services.clock.now(),
                                           source=source_of(request))
    if isinstance(signed, SignInThrottled):
        raise ApiError(429, "too_many_attempts", signed.message_zh,
                       f"too many failed sign-ins; try again in {signed.retry_after} s",
                       headers={"Retry-After": str(signed.retry_after)}, retry_after=signed.retry_after)
    if signed is None:
        raise ApiError(401, "bad_credentials", "用户名或密码错误", "wrong username or password",
                       headers={"WWW-Authenticate": 'Bearer realm="gongzhi"'})
    return signed


@router.post("/auth/token", response_model=TokenRead, responses=errors(401, 422, 429),
             summary="登录取得令牌 / sign in for a bearer token (OAuth2 password form)")
def sign_in_token(request: Request, services: ServicesDep, username: Annotated[Username, Form()],
                  password: Annotated[Password, Form()]) -> TokenRead:
    signed = _sign_in(request, services, username, password, "bearer")
    return TokenRead(access_token=signed.token, expires_at=signed.expires_at)


@router.post("/auth/session", response_model=SessionRead, responses=errors(401, 422, 429),
             summary="网页登录（会话 Cookie）/ sign in for a session cookie (pages)")
def sign_in_session(request: Request, services: ServicesDep, body: SignIn, response: Response) -> SessionRead:
    signed = _sign_in(request, services, body.username, body.password, "cookie")
    secure = services.settings.cookie_secure
    max_age = int((signed.expires_at - services.clock.now()).total_seconds())
    csrf = csrf_for(signed.token)
    response.set_cookie(SESSION_COOKIE, signed.token, max_age=max_age, httponly=True, secure=secure, samesite="lax")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure, samesite="lax")
    return SessionRead(me=_me(services, signed.account), expires_at=signed.expires_at, csrf_token=csrf)


@router.post("/auth/logout", status_code=204, response_class=Response, responses=errors(401, 403),
             summary="退出登录（令牌或会话作废）/ sign out: the token or session stops working")
def sign_out(services: ServicesDep, viewer: CurrentViewer,
             creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
             cookie: Annotated[str | None, Depends(session)]) -> Response:
    found = credential(creds, None, cookie)
    if found is None or found[0] == "key":
        raise ApiError(403, "keys_do_not_sign_out", "API 密钥不能退出登录，请由管理员吊销",
                       "API keys do not sign out; have the key revoked instead")
    with services.db.write() as conn:
        services.accounts.sign_out(conn, found[1])
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/me", response_model=Me, responses=errors(401), summary="当前账号 / who I am")
def me(request: Request, services: ServicesDep, viewer: CurrentViewer) -> Me:
    return _me(services, request.state.account)
