"""From an event's commit to the person: the in-product notice and the e-mail, at a steady 20 events/s.

The product runs as README's first command runs it (`gongzhi serve`: HTTP and the background work in
one process on SQLite; as many processes as it chooses on PostgreSQL), with a real SMTP server
(aiosmtpd) on 127.0.0.1. The event is a receiver's 报送进展 on a referral in progress, every 50 ms over
HTTP, with one notification rule added for the run (the referrer, whose unit has an e-mail channel, is
told of each report); the moment its response arrives counts as the commit (the event commits before it
answers). The referrals' own 移送函 are rendered before the clock starts, so the run measures notices at
a steady state, not a backlog of PDFs. A poller signed in as the referring unit reads GET /notices every
50 ms and notes when each case first shows; the SMTP server notes when each mail arrives. Targets: p99
< 2 s in the product, < 5 s to SMTP.

    python bench/notify_latency.py [--rate 20] [--seconds 20] [--pg URL] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from backends import each_backend  # noqa: E402
from backends import percentile as pct  # noqa: E402
from fire_throughput import RECEIVER, REFERRER, make_cases  # noqa: E402
from http_events import free_port, wait_for_health  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from api.accounts import Accounts, hasher  # noqa: E402
from db.models import Channel, OutboxItem  # noqa: E402
from db.repositories.time import get_setting  # noqa: E402
from db.session import Database  # noqa: E402
from engine.bootstrap import init_database  # noqa: E402
from engine.cases import Cases  # noqa: E402
from engine.clock import SystemClock  # noqa: E402
from engine.notices import SETTING_PREFIX, Rule, store_rules  # noqa: E402
from workflows import ROOT as WORKFLOWS  # noqa: E402

PASSWORD = "bench password"


class Inbox:
    """The SMTP server's side: when each case's mail arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.count += 1
        if "报送进展" in str(message["Subject"]):
            self.arrived.setdefault(str(message["Subject"]).rsplit("：", 1)[-1], time.perf_counter())
        return "250 OK"


def prepare(url: str, n: int) -> list[tuple[int, str]]:
    """Migrate and load; the two accounts; the referrer's e-mail channel; n referrals in progress; and
    the run's one extra rule (the referrer is told of each progress report)."""
    db = Database(url)
    init_database(db, WORKFLOWS)
    accounts = Accounts(hasher("cheapest"), timedelta(hours=1))
    now = SystemClock().now()
    with db.write() as conn:
        for username, actor in (("bench_ref", REFERRER), ("bench_rcv", RECEIVER)):
            accounts.create_user(conn, username=username, display_name=username, unit=actor.unit,
                                 task_force="two_lakes", roles=["member"], password=PASSWORD, now=now)
        conn.execute(insert(Channel.__table__), {"owner_kind": "unit", "owner": REFERRER.unit, "kind": "email",
                                                 "target": "ref@example.org", "enabled": True, "created_at": now})
        rules = [Rule.from_data(r) for r in (get_setting(conn, SETTING_PREFIX + "two_lakes") or {})["rules"]]
        rules.append(Rule("bench_progress", "referral", "progress", (("party", "referrer"),), "报送进展：{title}", ""))
        store_rules(conn, "two_lakes", rules)
    out = [(c.id, c.title) for c in make_cases(Cases(db), n)]
    db.dispose()
    return out


def drain_documents(url: str, timeout: float = 600) -> float:
    """Wait until the server has rendered every queued document and sent every queued notice (the
    referrals' own); returns how long it took."""
    db = Database(url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            with db.read() as conn:
                left = conn.execute(select(func.count()).select_from(OutboxItem.__table__).where(
                    OutboxItem.topic.in_(("document", "notice")), OutboxItem.status == "pending")).scalar_one()
            if not left:
                return time.monotonic() - started
            time.sleep(0.5)
        raise RuntimeError(f"{left} documents still pending after {timeout:.0f} s")
    finally:
        db.dispose()


def serve(url: str, data_dir: str, port: int, smtp_port: int) -> subprocess.Popen:
    env = {**os.environ, "GONGZHI_DATABASE_URL": url, "GONGZHI_DATA_DIR": data_dir, "GONGZHI_LOG_LEVEL": "WARNING",
           "GONGZHI_PASSWORD_PROFILE": "cheapest", "GONGZHI_SMTP_HOST": "127.0.0.1",
           "GONGZHI_SMTP_PORT": str(smtp_port), "GONGZHI_SMTP_FROM": "gongzhi@example.org",
           "GONGZHI_NOTIFY_QUIET_HOURS": "false", "GONGZHI_NOTIFY_DAILY_CAP": "100000"}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_for_health(proc, port, 60)


def bench(label: str, url: str, rate: float, seconds: float) -> None:
    n = int(rate * seconds)
    drafts = prepare(url, n)
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        proc = serve(url, data_dir, port, smtp.port)
        try:
            drained = drain_documents(url)
            def token(username: str) -> str:
                return httpx.post(f"{base}/auth/token", data={"username": username, "password": PASSWORD}).json()[
                    "access_token"]

            # The receiver reports; the referrer is told.
            told = {"Authorization": f"Bearer {token('bench_ref')}"}
            reporter = {"Authorization": f"Bearer {token('bench_rcv')}"}
            committed: dict[str, float] = {}
            seen: dict[str, float] = {}
            done = threading.Event()

            def poll() -> None:
                with httpx.Client(base_url=base, headers=told, timeout=10) as c:
                    while not done.is_set():
                        items = c.get("/notices", params={"unread": "true", "limit": 200}).json()["items"]
                        at = time.perf_counter()
                        fresh = [i["id"] for i in items if i["title"].startswith("报送进展")
                                 and i["title"].rsplit("：", 1)[-1] not in seen]
                        for i in items:
                            if i["title"].startswith("报送进展"):
                                seen.setdefault(i["title"].rsplit("：", 1)[-1], at)
                        if fresh:
                            c.post("/notices/read", json={"ids": fresh})
                        time.sleep(0.05)

            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            with httpx.Client(base_url=base, headers=reporter, timeout=10) as c:
                start = time.perf_counter()
                for k, (case_id, title) in enumerate(drafts):
                    time.sleep(max(0.0, start + k / rate - time.perf_counter()))
                    r = c.post(f"/cases/{case_id}/events",
                               json={"event": "progress", "payload": {"note": f"第{k}次进展"}})
                    if r.status_code != 200:
                        raise RuntimeError(f"progress answered {r.status_code}: {r.text[:300]}")
                    committed[title] = time.perf_counter()
                sent_for = time.perf_counter() - start
            deadline = time.monotonic() + 60
            while (len(seen) < n or len(inbox.arrived) < n) and time.monotonic() < deadline:
                time.sleep(0.1)
            done.set()
            poller.join(5)
            product = [max(0.0, seen[k] - t) for k, t in committed.items() if k in seen]
            mail = [max(0.0, inbox.arrived[k] - t) for k, t in committed.items() if k in inbox.arrived]
            print(f"{label:<11} {n} events in {sent_for:5.1f} s ({n / sent_for:4.1f}/s), after the server rendered "
                  f"the {n} 移送函 and sent the notices queued beforehand in {drained:.0f} s")
            print(f"{'':<11} in the product: {len(product):4d}/{n} seen  p50 {pct(product, 50):7.1f} ms  "
                  f"p99 {pct(product, 99):7.1f} ms  (target p99 < 2000 ms)")
            print(f"{'':<11} to SMTP:        {len(mail):4d}/{n} mails p50 {pct(mail, 50):7.1f} ms  "
                  f"p99 {pct(mail, 99):7.1f} ms  (target p99 < 5000 ms); {inbox.count} mails received in all")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            smtp.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=20.0, help="events per second")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--pg", default=os.environ.get("GONGZHI_TEST_PG_URL"))
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    print(f"event commit → notice, {args.rate:g} events/s for {args.seconds:g} s, {os.cpu_count()} cores")
    for name, url in each_backend(args.pg, args.only or (None if args.pg else "sqlite")):
        bench(name, url, args.rate, args.seconds)


if __name__ == "__main__":
    main()
