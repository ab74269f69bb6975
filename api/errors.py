"""One error body for every refusal, in Chinese and English, with a stable code — mapped in one place.

    {"code": "stale_version", "message_zh": "...", "message_en": "...", "details": {...}, "request_id": "..."}
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.context import request_id
from db.session import fault_of
from engine.attachments import NotContributor, TooLarge, UnsupportedType, ZipBomb
from engine.errors import (
    BadAssignee,
    BadPayload,
    ClockBehind,
    ClockConflict,
    DefinitionError,
    DuplicateCase,
    EngineError,
    GuardFailed,
    NotActingUnit,
    NotAllowed,
    NotAssignee,
    NotFound,
    OwnerMissing,
    RoleNotHeld,
    StaleVersion,
    UnitNotAllowed,
    WorkConflict,
)

log = logging.getLogger("gongzhi.api")


class ApiError(Exception):
    """A refusal made by the HTTP layer itself (authentication, preconditions, request shape)."""

    def __init__(self, status: int, code: str, message_zh: str, message_en: str, headers: dict[str, str] | None = None,
                 **details: Any) -> None:
        super().__init__(message_en)
        self.status, self.code, self.message_zh, self.message_en = status, code, message_zh, message_en
        self.headers, self.details = headers, details


def not_authenticated(reason: str = "missing or invalid credentials") -> ApiError:
    return ApiError(401, "not_authenticated", "未登录或凭据无效，请先登录", reason,
                    headers={"WWW-Authenticate": 'Bearer realm="gongzhi"'})


# Most specific first: RoleNotHeld is a NotAllowed, and answers 403 (you may see it, not move it).
_ENGINE_STATUS: tuple[tuple[type[EngineError], int], ...] = (
    (RoleNotHeld, 403),
    (NotAssignee, 403),
    (NotActingUnit, 403),
    (BadAssignee, 422),
    (WorkConflict, 409),
    (NotContributor, 403),
    (TooLarge, 413),
    (ZipBomb, 413),
    (UnsupportedType, 415),
    (NotAllowed, 409),
    (StaleVersion, 409),
    # One case per declared key (figures.yaml `unique`): the body names the case that holds it.
    (DuplicateCase, 409),
    (GuardFailed, 409),
    # A unit the naming rules refuse for a role is a wrong choice in the request, like any bad field.
    (UnitNotAllowed, 422),
    (BadPayload, 422),
    (NotFound, 404),
    (DefinitionError, 500),
    # The server's clock, not the request, is at fault: retry once the clocks agree.
    (ClockBehind, 503),
    (ClockConflict, 503),
)


def engine_status(exc: EngineError) -> int:
    for cls, status in _ENGINE_STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def _list(items: Any) -> str:
    return "、".join(items) if items else "无"


def _engine_zh(exc: EngineError) -> str:
    d = exc.details
    if isinstance(exc, RoleNotHeld):
        return (f"您的单位在本案件中没有执行“{d['event']}”所需的角色（需要：{_list(d.get('needed_roles'))}）；"
                f"您当前可执行：{_list(d.get('allowed'))}")
    if isinstance(exc, NotAllowed):
        return f"案件当前状态（{d['state']}）下不能执行“{d['event']}”；可执行：{_list(d.get('allowed'))}"
    if isinstance(exc, StaleVersion):
        return f"案件已被他人更新（当前第 {d['current_version']} 版，状态 {d['state']}），请刷新后重试"
    if isinstance(exc, GuardFailed):
        return f"前置条件“{d['guard']}”不满足：{d['reason']}"
    if isinstance(exc, OwnerMissing):
        return d["reason_zh"]
    if isinstance(exc, UnitNotAllowed):
        return f"“{d['field']}”所选单位不能担任该角色：{d['reason_zh']}"
    if isinstance(exc, BadPayload):
        return f"“{d['field']}”填写有误：{d['reason']}"
    if isinstance(exc, DuplicateCase):
        return d["reason_zh"]
    if isinstance(exc, ClockBehind):
        return (f"服务器时钟（{d['now']}）早于本案件最后一条记录的时间（{d['last_row_at']}），为保证记录时间不倒流，"
                "本次操作未写入；请管理员校准服务器时间后重试")
    return exc.message_zh


def body(code: str, message_zh: str, message_en: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message_zh": message_zh, "message_en": message_en, "details": details or {},
            "request_id": request_id.get()}


def error_response(status: int, code: str, message_zh: str, message_en: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body(code, message_zh, message_en, details), status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> dict[str, Any]:
    errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
              for e in exc.errors()]
    first = errors[0]["loc"] if errors else []
    return {"field": ".".join(first), "errors": errors}


_HTTP = {
    404: ("not_found", "未找到", "not found"),
    405: ("method_not_allowed", "不支持该请求方法", "method not allowed"),
    413: ("payload_too_large", "请求内容过大", "request body too large"),
}


# What a person is told when the database cannot take the write: the request is refused whole (one
# event, one transaction), so trying again later is always safe.
_FAULT_ZH = {
    "read_only": "数据库当前为只读状态，本次操作未保存，请稍后重试",
    "disk_full": "数据库存储空间已满，本次操作未保存，请联系管理员",
}
_FAULT_EN = {
    "read_only": "the database is read-only at the moment; nothing was saved, try again later",
    "disk_full": "the database's disk is full; nothing was saved, tell the administrator",
}


def database_fault(request: Request, exc: Exception, fault: str) -> Response:
    log.warning("database fault %s on %s %s: %s: %s", fault, request.method, request.url.path,
                exc.__class__.__name__, str(exc).splitlines()[0] if str(exc) else "")
    if "text/html" in request.headers.get("accept", ""):
        # A person at a page: a page, not JSON. (Imported here: the pages import this module's callers.)
        from api.pages.render import page

        response = page(request, "message.html", status=503, title="暂时无法保存",
                        text=_FAULT_ZH.get(fault, "数据库暂时无法使用，本次操作未保存，请稍后重试")
                        + f"（请求编号 {request_id.get()}）")
        response.headers["Retry-After"] = "5"
        return response
    return error_response(503, "database_unavailable", _FAULT_ZH.get(fault, "数据库暂时无法使用，本次操作未保存，请稍后重试"),
                          _FAULT_EN.get(fault, "the database is unavailable at the moment; nothing was saved, "
                                               "try again later"),
                          {"reason": fault}, headers={"Retry-After": "5"})


def handle(request: Request, exc: Exception) -> Response:
    """The one handler: engine errors, the API's own refusals, malformed requests, and the unexpected."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message_zh, exc.message_en, exc.details, exc.headers)
    if isinstance(exc, EngineError):
        status = engine_status(exc)
        if status >= 500:
            log.error("engine error %s: %s", exc.code, exc.message)
        return error_response(status, exc.code, _engine_zh(exc), exc.message, _jsonable(exc.details))
    if isinstance(exc, RequestValidationError):
        details = _validation_details(exc)
        return error_response(422, "validation_error", f"请求内容有误：{details['field'] or '请求'}",
                              f"invalid request: {details['field'] or 'request'}", details)
    if isinstance(exc, StarletteHTTPException) and exc.status_code == 400:
        # FastAPI and Starlette answer 400 for a body they cannot parse (not UTF-8, broken multipart);
        # it is the same kind of refusal as any other invalid request: 422, naming the body.
        return error_response(422, "malformed_body", "请求内容无法解析", f"the request body cannot be parsed: {exc.detail}",
                              {"field": "body"})
    if isinstance(exc, StarletteHTTPException):
        code, zh, en = _HTTP.get(exc.status_code, ("http_error", "请求失败", str(exc.detail)))
        return error_response(exc.status_code, code, zh, en, headers=getattr(exc, "headers", None))
    fault = fault_of(exc)
    if fault is not None:
        return database_fault(request, exc, fault)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "服务器内部错误，请联系管理员并提供请求编号",
                          "internal server error; quote the request id when reporting it")


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in details.items():
        out[k] = v if isinstance(v, str | int | float | bool | list | dict | type(None)) else str(v)
    return out


def install(app: FastAPI) -> None:
    # The database's and drivers' errors are named, not left to the catch-all: Starlette re-raises
    # what reaches the `Exception` handler after answering, and the server then closes the client's
    # connection. A database fault is an answer (503), not a crash.
    for cls in (EngineError, ApiError, RequestValidationError, StarletteHTTPException, sa_exc.SQLAlchemyError,
                sqlite3.Error, psycopg.Error, Exception):
        app.add_exception_handler(cls, handle)
