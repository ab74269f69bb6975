"""A real server and Debian's headless Chromium for the browser journeys.

The server is uvicorn on 127.0.0.1 at a free port, in a thread of the test process, over its own SQLite
database with the real workflows and the demo accounts; the clock is fixed (2 March 2026) and steps a
second per reading. Chromium is the system's (`apt-get install chromium`); nothing is downloaded.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from api.accounts import Accounts, hasher
from api.app import create_app
from api.demo import create_demo_accounts
from db.repositories import accounts as accounts_repo
from db.session import Database
from db.settings import Settings
from engine.bootstrap import init_database
from engine.clock import FixedClock
from workflows import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    """The running server: its address, database and clock (journeys run the document worker on them)."""

    def __init__(self, url: str, db: Database, clock: FixedClock) -> None:
        self.url, self.db, self.clock = url, db, clock


def demo_accounts(db: Database, clock) -> None:
    """The demo accounts of every packaged task force, each signing in with PASSWORD."""
    service = Accounts(hasher("cheapest"), timedelta(hours=12))
    made = create_demo_accounts(db, service, ROOT, clock)
    with db.write() as conn:
        for demo in made:
            account, _ = accounts_repo.by_username(conn, demo.username)
            accounts_repo.set_password_hash(conn, account.id, service.passwords.hash(PASSWORD))


def signed_in_page(browser, url: str, username: str, **context_options):
    """(context, page) of a Chromium context signed in as `username` through the sign-in form, on 我的待办."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=url, locale="zh-CN", timezone_id="Asia/Shanghai", **context_options)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("我的待办")
    return context, page


@contextmanager
def running_site(tmp: Path) -> Iterator[Site]:
    db = Database(f"sqlite:///{tmp / 'pages.db'}")
    clock = FixedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), step=timedelta(seconds=1))
    init_database(db, ROOT)
    demo_accounts(db, clock)
    settings = Settings(environment="test", data_dir=tmp, password_profile="cheapest", log_level="WARNING")
    try:
        with serving(create_app(settings, db, clock)) as port:
            yield Site(f"http://127.0.0.1:{port}", db, clock)
    finally:
        db.dispose()


@contextmanager
def serving(app, **config) -> Iterator[int]:
    """uvicorn on a free port of 127.0.0.1 in a thread of this process; yields the port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
