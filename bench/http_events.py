"""Latency of POST /cases/{id}/events over real HTTP: a uvicorn server on 127.0.0.1, 8 concurrent clients.

Each client signs in, then fires `progress` (an event that loops on its state, checked for role and
payload, hash-chained into history) on its own referral case, as fast as it can, a bounded number
of times, over one keep-alive connection (stdlib http.client). Latency is measured at the client,
end to end. Rounds: plain, and with Idempotency-Key
(one more row written per event). The server runs as `gongzhi serve` would run it (uvicorn, httptools and
uvloop; as many worker processes as `gongzhi serve` chooses for that database: one on SQLite, one per core
on PostgreSQL; --workers overrides), with the database on SQLite (default) and on PostgreSQL when --pg
is given or GONGZHI_TEST_PG_URL is set.

    python bench/http_events.py [--clients 8] [--n 250] [--workers N] [--pg URL] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from backends import each_backend, percentile  # noqa: E402
from fire_throughput import RECEIVER, make_cases  # noqa: E402

from api.accounts import Accounts, hasher  # noqa: E402
from db.session import Database  # noqa: E402
from db.settings import Settings  # noqa: E402
from engine.bootstrap import init_database  # noqa: E402
from engine.cases import Cases  # noqa: E402
from engine.clock import SystemClock  # noqa: E402
from workflows import ROOT as WORKFLOWS  # noqa: E402

PASSWORD = "bench password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, clients: int) -> list[int]:
    """Migrate, load, one receiver account, one case per client sitting in `in_progress`."""
    from datetime import timedelta

    db = Database(url)
    init_database(db, WORKFLOWS)
    accounts = Accounts(hasher("cheapest"), timedelta(hours=1))
    with db.write() as conn:
        # The account speaks for the receiving unit of the cases fire_throughput's make_cases opens.
        accounts.create_user(conn, username="bench", display_name="基准", unit=RECEIVER.unit, task_force="two_lakes",
                             roles=["member"], password=PASSWORD, now=SystemClock().now())
    ids = [c.id for c in make_cases(Cases(db), clients)]
    db.dispose()
    return ids


def serve(url: str, data_dir: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "GONGZHI_DATABASE_URL": url, "GONGZHI_DATA_DIR": data_dir, "GONGZHI_LOG_LEVEL": "WARNING",
           "GONGZHI_PASSWORD_PROFILE": "cheapest"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning", "--no-access-log", "--workers", str(workers)],
                            cwd=ROOT, env=env)
    return wait_for_health(proc, port, 30)


def wait_for_health(proc: subprocess.Popen, port: int, seconds: float) -> subprocess.Popen:
    """The server once it answers /health; killed, and an error raised, if it does not in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the server did not answer /health within {seconds:g} s")


def round_(base: str, token: str, ids: list[int], n: int, idempotent: bool) -> tuple[list[float], float]:
    barrier = threading.Barrier(len(ids) + 1)
    latencies: list[list[float]] = [[] for _ in ids]
    errors: list[str] = []

    host, port = base.removeprefix("http://").split(":")

    def client(i: int) -> None:
        # http.client, not httpx: on a 2-core machine the clients share the CPU with the server under
        # test, and the lighter client takes less of it. One keep-alive connection per client.
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        path = f"/cases/{ids[i]}/events"
        barrier.wait()
        try:
            for k in range(n):
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                if idempotent:
                    headers["Idempotency-Key"] = uuid.uuid4().hex
                body = json.dumps({"event": "progress", "payload": {"note": f"第{k}次进展"}}, ensure_ascii=False)
                t0 = time.perf_counter()
                conn.request("POST", path, body=body.encode(), headers=headers)
                r = conn.getresponse()
                data = r.read()
                latencies[i].append(time.perf_counter() - t0)
                if r.status != 200:
                    errors.append(f"{r.status} {data[:200]!r}")
                    return
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(ids))]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed, first: {errors[0]}")
    return [x for per in latencies for x in per], elapsed


def bench(label: str, url: str, clients: int, n: int, workers: int | None) -> None:
    ids = prepare(url, clients)
    port = free_port()
    workers = workers or Settings(workers=0).resolved_workers(url)
    label = f"{label} ×{workers}"
    with tempfile.TemporaryDirectory() as data_dir:
        proc = serve(url, data_dir, port, workers)
        try:
            base = f"http://127.0.0.1:{port}"
            token = httpx.post(f"{base}/auth/token", data={"username": "bench", "password": PASSWORD}).json()[
                "access_token"]
            round_(base, token, ids, max(20, n // 10), False)  # warm-up: connections, compiled machines
            for idempotent in (False, True):
                lat, elapsed = round_(base, token, ids, n, idempotent)
                kind = "with Idempotency-Key" if idempotent else "plain"
                print(f"{label:<13} {kind:<21} {len(lat):5d} events, {clients} clients: {len(lat) / elapsed:7.0f}/s  "
                      f"p50 {percentile(lat, 50):6.1f} ms  p95 {percentile(lat, 95):6.1f} ms  p99 {percentile(lat, 99):6.1f} ms  "
                      f"max {max(lat) * 1000:6.1f} ms  mean {statistics.mean(lat) * 1000:5.1f} ms")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--n", type=int, default=250, help="events per client per round")
    ap.add_argument("--workers", type=int, help="server processes (default: as `gongzhi serve` chooses)")
    ap.add_argument("--pg", default=os.environ.get("GONGZHI_TEST_PG_URL"))
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    print(f"POST /cases/{{id}}/events over HTTP (uvicorn, 127.0.0.1; ×N = worker processes), {os.cpu_count()} cores; "
          f"target p99 < 50 ms")
    for name, url in each_backend(args.pg, args.only or (None if args.pg else "sqlite")):
        bench(name, url, args.clients, args.n, args.workers)


if __name__ == "__main__":
    main()
