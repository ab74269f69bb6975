"""Real receivers on loopback: an SMTP server (aiosmtpd) and an HTTP server that plays 企业微信, 钉钉 (checking
the signature as 钉钉 does) and a plain webhook, each able to fail on cue.

Paths of the HTTP receiver: /wecom/<name>, /dingtalk/<name>, /webhook/<name>. `plan(path, ...)` queues the
answers a path gives next ("500", "errcode:45009", "hang"); with nothing queued it answers success.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller

from db.repositories import channels as channels_repo
from db.repositories import outbox
from db.settings import Settings
from engine.calendar import default_calendar
from engine.clock import FixedClock
from engine.localtime import LOCAL_TZ
from tests.api.conftest import accounts, app, client  # noqa: F401  (the page tests' app over `db`)

DING_SECRET = "SECtest0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """What the SMTP server accepted; recipients starting with "nobody@" are refused (550)."""

    def __init__(self) -> None:
        self.messages: list = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK queued"


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


class Receiver:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.plans: dict[str, list[str]] = {}
        self.deliveries: Counter = Counter()  # X-Gongzhi-Delivery -> times received

    def plan(self, path: str, *answers: str) -> None:
        with self.lock:
            self.plans.setdefault(path, []).extend(answers)

    def url(self, path: str, query: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}{'?' + query if query else ''}"

    def of(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real robots' front ends do

        def setup(self) -> None:
            super().setup()
            # headers and body go out in two writes: without this, Nagle and delayed ACKs cost 40 ms each
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args) -> None:
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            query = parse_qs(parts.query)
            record = {"path": parts.path, "query": query, "headers": dict(self.headers), "raw": raw,
                      "json": json.loads(raw.decode("utf-8"))}
            with receiver.lock:
                receiver.requests.append(record)
                if "X-Gongzhi-Delivery" in self.headers:
                    receiver.deliveries[self.headers["X-Gongzhi-Delivery"]] += 1
                planned = receiver.plans.get(parts.path)
                answer = planned.pop(0) if planned else "ok"
            if answer == "hang":
                time.sleep(3)
                return self._answer(200, {"errcode": 0})
            if answer.isdigit():
                return self._answer(int(answer), {"error": answer})
            if answer.startswith("errcode:"):
                return self._answer(200, {"errcode": int(answer[8:]), "errmsg": "planned"})
            kind = parts.path.split("/")[1]
            if kind == "dingtalk" and "timestamp" in query:
                ts = query["timestamp"][0]
                expected = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(),
                                                     hashlib.sha256).digest()).decode()
                # parse_qs already decoded the sign once, as 钉钉's server does
                fresh = abs(int(ts) - time.time() * 1000) < 3600_000
                if query.get("sign", [""])[0] != expected or not fresh:
                    return self._answer(200, {"errcode": 310000, "errmsg": "sign not match"})
            if kind in ("wecom", "dingtalk"):
                return self._answer(200, {"errcode": 0, "errmsg": "ok"})
            return self._answer(204 if parts.path.endswith("/nocontent") else 200, {"ok": True})

    return Handler


@pytest.fixture
def receiver():
    r = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(r))
    server.daemon_threads = True
    r.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield r
    server.shutdown()
    server.server_close()
    thread.join(5)


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


# Monday 2 March 2026, 10:00 Beijing: a working day, inside working hours.
WORKING = local(2026, 3, 2, 10)


@pytest.fixture
def now_clock() -> FixedClock:
    return FixedClock(WORKING)


@pytest.fixture
def calendar():
    return default_calendar()


def make_settings(smtp=None, **overrides) -> Settings:
    base = {"environment": "test", "public_base_url": "https://gongzhi.example.gov.cn",
            "smtp_from": "gongzhi@example.gov.cn", "notify_http_timeout": 1.0, "smtp_timeout": 2.0}
    if smtp is not None:
        base.update(smtp_host="127.0.0.1", smtp_port=smtp.port)
    return Settings(**{**base, **overrides})


def add_channel(db, kind: str, target: str, *, owner: str = "gy_sthjj", owner_kind: str = "unit",
                secret: str | None = None) -> int:
    with db.write() as conn:
        return channels_repo.add(conn, owner_kind=owner_kind, owner=owner, kind=kind, target=target,
                                 secret=secret, now=datetime(2026, 1, 1, tzinfo=UTC))


def queue(db, channel_id: int | None, now: datetime, n: int = 1, *, kind: str = "webhook", target: str = "",
          title: str = "移送事项待接收", case_number: str = "移送-2026-0001", case_id: int | None = None
          ) -> list[int]:
    """n notice rows in the lead's format (case_id and notice_id NULL, as the brief allows)."""
    rows = [("notice", case_id, None, {"notice_id": None, "channel_id": channel_id, "kind": kind, "target": target,
                                    "title": title, "body": f"贵阳市生态环境局移送的问题请于3个工作日内接收。#{i}",
                                    "link": "/case/7", "case_number": case_number})
            for i in range(n)]
    with db.write() as conn:
        outbox.enqueue(conn, rows, now)
        from sqlalchemy import select

        from db.models import OutboxItem

        t = OutboxItem.__table__
        return list(conn.execute(select(t.c.id).where(t.c.topic == "notice").order_by(t.c.id.desc()).limit(n))
                    .scalars())[::-1]


