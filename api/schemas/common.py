"""Shapes shared by every resource: the error body, safe strings, and the error responses per route."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_DEPTH = 16


def _check_str(value: str) -> str:
    # PostgreSQL refuses NUL in text and JSON; lone surrogates cannot be encoded at all.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _check_json(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        _check_str(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_str(k)
            _check_json(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_json(v, depth + 1)
    return value


# A string a database will store as it is.
SafeStr = Annotated[str, AfterValidator(_check_str)]
# A JSON object whose every string and number a database will store as it is.
JsonObject = Annotated[dict[str, Any], AfterValidator(_check_json)]
Code = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_\-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")]
# Ids fit a 64-bit signed integer on both databases.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """Every error: a stable code, a message in Chinese and in English, and what went wrong where."""

    code: str = Field(examples=["stale_version"])
    message_zh: str
    message_en: str
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None


_DESCRIPTIONS = {
    401: "未登录 / not authenticated",
    403: "无权执行 / not allowed to do this (the reason is in the body)",
    404: "未找到（或无权查看）/ not found, or not visible to you",
    409: "冲突：当前状态不允许，或版本已过期 / not allowed now (allowed events listed), or stale version",
    413: "内容过大 / too large",
    415: "不支持的文件类型 / unsupported file type",
    422: "请求内容有误（指明字段）/ invalid request (names the field)",
    429: "尝试过于频繁，见 Retry-After / too many attempts, see Retry-After",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented error responses of a route; 401 and 422 go with every authenticated route."""
    return {c: {"model": ErrorBody, "description": _DESCRIPTIONS[c]} for c in sorted(set(codes))}
