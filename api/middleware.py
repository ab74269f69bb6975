"""Every request: an id (X-Request-ID), a body size limit (413), one access-log line, and its latency
in the Prometheus histogram (by route template, so /cases/1 and /cases/2 are one series)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import metrics
from api.context import request_id
from api.errors import error_response

access_log = logging.getLogger("gongzhi.access")
error_log = logging.getLogger("gongzhi.api")
_GOOD_ID = re.compile(r"^[A-Za-z0-9._\-]{1,100}$")


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413)


class RequestContext:
    """Pure ASGI (no per-request task or body copy, unlike BaseHTTPMiddleware)."""

    def __init__(self, app: ASGIApp, *, max_json_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_json = max_json_bytes
        # Multipart bodies carry a file plus its boundary and headers.
        self.max_upload = max_upload_bytes + 64 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        sent_id = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = sent_id if _GOOD_ID.match(sent_id) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            content_type = headers.get(b"content-type", b"")
            limit = self.max_upload if content_type.startswith(b"multipart/") else self.max_json
            length = headers.get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > limit):
                response = error_response(413, "payload_too_large", f"请求内容超过上限（{limit} 字节）",
                                          f"request body exceeds {limit} bytes", {"limit": limit})
                await response(scope, receive, send_with_id)
                return
            received = 0

            async def counting_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise BodyTooLarge()
                return message

            await self.app(scope, counting_receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            metrics.observe(scope["method"], route, status, elapsed)
            state = scope.get("state") or {}
            viewer = state.get("viewer")
            access_log.info("%s %s %s", scope["method"], scope["path"], status, extra={
                "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "principal": viewer.id if viewer else None, "request_id": rid})
            request_id.reset(token)


# The pages load script and styles only from this site (the one script is /static/pages.js; inline
# `style=` attributes remain, which cannot run code); nothing may frame them, and forms post only here.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# The interactive API docs load their script from a CDN and inline: framing is still refused.
_DOCS_CSP = "frame-ancestors 'none'"
_DOCS = ("/docs", "/redoc")
_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"same-origin"))
_CREDENTIALS = (b"authorization", b"x-api-key")
_SESSION = b"gongzhi_session="


class SecurityHeaders:
    """Headers on every response: CSP, no framing, no sniffing, the referrer kept on this site — and
    `Cache-Control: no-store` on whatever answers a signed-in request, so Back after 退出 on a shared
    PC shows nothing from the browser's cache (a response that sets its own Cache-Control keeps it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        csp = (_DOCS_CSP if path.startswith(_DOCS) else CSP).encode()
        # The site's own script is the same for everyone: it may be cached.
        signed_in = not path.startswith("/static/") and any(
            name in _CREDENTIALS or (name == b"cookie" and _SESSION in value) for name, value in scope["headers"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in _ALWAYS if k not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp))
                if signed_in and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LastResort:
    """Inside RequestContext: an exception no handler took becomes the 500 error body with the request id,
    and is not re-raised — the server would otherwise close the connection after logging it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception:
            if started:
                raise
            error_log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            response = error_response(500, "internal_error", "服务器内部错误，请联系管理员并提供请求编号",
                                      "internal server error; quote the request id when reporting it")
            await response(scope, receive, send)
