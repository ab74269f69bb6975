"""A real server on loopback over a database of the test's own, and one kept-alive HTTP connection to it."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from api.accounts import Accounts, hasher
from api.app import create_app
from api.demo import create_demo_accounts
from db.repositories import accounts as accounts_repo
from db.session import Database
from db.settings import Settings
from engine.bootstrap import init_database
from engine.clock import FixedClock
from tests.pages.browser import serving
from workflows import ROOT

PASSWORD = "correct horse battery"


def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), step=timedelta(seconds=1))


def prepare(url: str, users: tuple[str, ...] = ("gy_sthjj",)) -> None:
    """Migrate, load the real workflows and the demo accounts; `users` get the test password."""
    db = Database(url)
    try:
        init_database(db, ROOT)
        service = Accounts(hasher("cheapest"), timedelta(hours=12))
        create_demo_accounts(db, service, ROOT, clock())
        with db.write() as conn:
            for username in users:
                account, _ = accounts_repo.by_username(conn, username)
                accounts_repo.set_password_hash(conn, account.id, service.passwords.hash(PASSWORD))
    finally:
        db.dispose()


@dataclass
class Running:
    port: int
    db: Database


@contextmanager
def serve(db: Database, tmp: Path) -> Iterator[Running]:
    settings = Settings(environment="test", data_dir=tmp, password_profile="cheapest", log_level="ERROR")
    app = create_app(settings, db, clock())
    # idle waits in tests are not faults: a long keep-alive
    with serving(app, timeout_keep_alive=120) as port:
        yield Running(port, db)


class Client:
    """One HTTP/1.1 connection, kept alive: every answer, a refusal included, must leave it open."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.connect()
        self.local = self.conn.sock.getsockname()
        self.token: str | None = None

    def request(self, method: str, path: str, body: Any = None, form: dict | None = None,
                headers: dict | None = None) -> tuple[int, dict[str, str], Any]:
        sent = {**({"Authorization": f"Bearer {self.token}"} if self.token else {}), **(headers or {})}
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        else:
            data = None
        self.conn.request(method, path, body=data, headers=sent)
        r = self.conn.getresponse()
        raw = r.read()
        assert not r.will_close and self.conn.sock is not None, f"the server closed the connection after {r.status}"
        assert self.conn.sock.getsockname() == self.local
        got = {k.lower(): v for k, v in r.getheaders()}
        self.cookies = [v.split(";", 1)[0] for k, v in r.getheaders() if k.lower() == "set-cookie"]
        return r.status, got, json.loads(raw) if got.get("content-type", "").startswith("application/json") else raw

    def sign_in(self, username: str = "gy_sthjj") -> None:
        status, _, body = self.request("POST", "/auth/token", form={"username": username, "password": PASSWORD})
        assert status == 200, body
        self.token = body["access_token"]

    def create_case(self, title: str) -> tuple[int, dict[str, str], Any]:
        return self.request("POST", "/cases", {"workflow": "referral", "title": title,
                                               "payload": {"problem": "沿岸堆放生活垃圾"}})

    def close(self) -> None:
        self.conn.close()


def assert_refused_as_fault(status: int, headers: dict[str, str], body: Any, reasons: set[str]) -> None:
    assert status == 503, body
    assert body["code"] == "database_unavailable" and body["details"]["reason"] in reasons, body
    assert body["message_zh"] and body["message_en"]
    assert body["request_id"] and body["request_id"] == headers["x-request-id"]
    assert headers.get("retry-after") == "5"
