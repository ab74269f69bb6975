"""The newcomer's path: `gongzhi init`, `gongzhi verify`, and /health answering."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from db.session import Database
from engine.actors import Actor
from engine.cases import Cases
from tests import tx
from tests.pages.browser import free_port

REPO = Path(__file__).resolve().parents[2]


def wait_for_health(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited: {server.stderr.read() if server.stderr else ''}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not answer /health within 60 s")


def test_init_twice_then_verify(backend, fresh_url):
    url = fresh_url(backend)
    runner = CliRunner()
    first = runner.invoke(cli, ["init", "--database-url", url])
    assert first.exit_code == 0, first.output
    assert "专班 two_lakes: organisation loaded" in first.output
    second = runner.invoke(cli, ["init", "--database-url", url])
    assert "organisation unchanged, 0 of" in second.output
    db = Database(url)
    try:
        office = Actor.of("o", "two_lakes_office", "office")
        case = tx.start(Cases(db), task_force="two_lakes", workflow="referral", actor=office, title="清镇市红枫湖沿岸垃圾",
                        payload={"problem": "沿岸堆放生活垃圾", "cross_city": False})
        tx.fire(Cases(db), case, "refer", office, {"receiver": "gy_qz_gov", "reason": "属地管理"})
        ok = runner.invoke(cli, ["verify", "--database-url", url])
        assert ok.exit_code == 0 and "OK: 1 cases" in ok.output
        with db.write() as conn:
            conn.exec_driver_sql("UPDATE cases SET state = 'closed'")
        broken = runner.invoke(cli, ["verify", "--database-url", url])
        assert broken.exit_code == 1 and "replays to 'referred'" in broken.output
    finally:
        db.dispose()


def test_health_reports_the_database(db):
    client = TestClient(create_app(db=db))
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": db.url.get_backend_name()}


def test_health_fails_when_the_database_is_gone(tmp_path):
    broken = Database(f"sqlite:///{tmp_path}/missing-dir/x/../../db.sqlite3")
    broken.engine.dispose()
    # A directory where the database file should be: SQLite cannot open it.
    (tmp_path / "db.sqlite3").mkdir()
    response = TestClient(create_app(db=broken)).get("/health")
    assert response.status_code == 503 and response.json()["status"] == "error"


def test_schedule_and_tick_commands(backend, fresh_url):
    url = fresh_url(backend)
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--database-url", url]).exit_code == 0
    first = runner.invoke(cli, ["schedule", "--from", "2026-01-01", "--to", "2026-01-31", "--database-url", url])
    # 1 January opens a half year, a quarter and a month: plenary, topical, inspection, 35 self-inspections,
    # 5 water data, 6 risk reports, the project list, one comprehensive and 5 sector enforcement actions.
    assert first.exit_code == 0 and first.output.startswith("56 个新案件"), first.output
    again = runner.invoke(cli, ["schedule", "--from", "2026-01-01", "--to", "2026-01-31", "--database-url", url])
    assert again.output.startswith("0 个新案件")
    # `schedule` wrote on real time: a simulated tick would date history before it, and is refused.
    refused = runner.invoke(cli, ["tick", "--from", "2026-01-01", "--until", "2026-02-28", "--database-url", url])
    assert refused.exit_code == 2 and "按真实时间运行" in refused.output and "--force" in refused.output
    assert runner.invoke(cli, ["verify", "--database-url", url]).exit_code == 0
    # On a database of its own the simulated clock runs: duties appear day by day, ladders open.
    sim = fresh_url(backend)
    assert runner.invoke(cli, ["init", "--database-url", sim]).exit_code == 0
    ticked = runner.invoke(cli, ["tick", "--from", "2026-01-01", "--until", "2026-02-28", "--database-url", sim])
    assert ticked.exit_code == 0, ticked.output
    assert "到 2026-02-28：新建" in ticked.output and "开启督办 5" in ticked.output and "放弃 0" in ticked.output
    bad = runner.invoke(cli, ["tick", "--until", "31/12/2026", "--database-url", sim])
    assert bad.exit_code != 0 and "not a date like 2026-12-31" in bad.output
    assert runner.invoke(cli, ["verify", "--database-url", sim]).exit_code == 0


def test_the_worker_count_follows_the_database():
    from db.settings import Settings

    assert Settings(workers=0).resolved_workers("sqlite:///data/gongzhi.sqlite3") == 1
    assert Settings(workers=0).resolved_workers("postgresql+psycopg://x@h/db") == max(1, os.cpu_count() or 1)
    assert Settings(workers=3).resolved_workers("sqlite:///x.sqlite3") == 3


def test_serve_with_two_worker_processes(backend, fresh_url, tmp_path):
    """`gongzhi serve --workers 2`: a token issued by one process is honoured by the other, events from
    both land in one unbroken history, and a stale write is refused whichever process takes it."""
    url = fresh_url(backend)
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--database-url", url]).exit_code == 0
    added = runner.invoke(cli, ["user", "add", "qz", "--unit", "gy_qz_gov", "--role", "member", "--password-stdin",
                                "--database-url", url], input="两湖 worker test\n")
    assert added.exit_code == 0, added.output
    port = free_port()
    env = {**os.environ, "GONGZHI_DATA_DIR": str(tmp_path), "GONGZHI_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2",
                               "--database-url", url], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, server)
        token = httpx.post(f"{base}/auth/token", data={"username": "qz", "password": "两湖 worker test"}).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        made = httpx.post(f"{base}/cases", headers=auth, json={"workflow": "referral", "title": "沿岸垃圾",
                                                               "payload": {"problem": "沿岸堆放生活垃圾"}})
        assert made.status_code == 201, made.text
        case_id = made.json()["id"]

        def refer(_: int) -> int:
            # A fresh connection each time, so both processes take requests.
            return httpx.post(f"{base}/cases/{case_id}/events", headers={**auth, "If-Match": '"1"'},
                              json={"event": "refer", "payload": {"receiver": "gy_by_gov", "reason": "属地管理"}},
                              timeout=30).status_code

        # Six racing writes of the same version: one lands, the others get a conflict, none is lost or doubled.
        with ThreadPoolExecutor(6) as pool:
            codes = sorted(pool.map(refer, range(6)))
        if codes != [200] + [409] * 5:
            server.terminate()
            raise AssertionError(f"{codes}: {server.communicate(timeout=20)[1][-3000:]}")
        history = httpx.get(f"{base}/cases/{case_id}/history", headers=auth).json()
        assert [h["event"] for h in history] == ["create", "refer"]
        verified = runner.invoke(cli, ["verify", "--database-url", url])
        # Both processes also ran the background work: the current periods' duties, each made once.
        assert verified.exit_code == 0 and "OK:" in verified.output, verified.output
    finally:
        server.terminate()
        _, err = server.communicate(timeout=20)
    assert "serving with 2 worker processes" in err
