"""Two `gongzhi worker` processes on PostgreSQL share the work: a thousand timers fire exactly once and
the thousand notices they cause reach a real webhook receiver; a worker killed mid-round loses nothing
(its transaction rolls back, its leases run out, the other finishes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import CaseHistory, Channel, OutboxItem, Timer
from db.session import Database
from engine.actors import Actor
from engine.bootstrap import init_database
from engine.cases import Cases
from engine.clock import FixedClock
from engine.publishing import load_task_force
from tests import tx
from workflows import ROOT

REPO = Path(__file__).resolve().parents[2]
BGTEST = REPO / "tests" / "fixtures" / "bgtest"
OFFICE = Actor.of("office-bg", "bg_office", "office")
N = 1000


def _workers(url: str, tmp_path: Path, n: int) -> list[subprocess.Popen]:
    env = {**os.environ, "GONGZHI_DATABASE_URL": url, "GONGZHI_LOG_JSON": "false", "GONGZHI_DATA_DIR": str(tmp_path),
           "GONGZHI_CLOCK_INTERVAL": "0.2", "GONGZHI_NOTIFY_QUIET_HOURS": "false", "GONGZHI_NOTIFY_DAILY_CAP": "0",
           "GONGZHI_NOTIFY_LEASE_SECONDS": "5"}
    return [subprocess.Popen([sys.executable, "-m", "api.cli", "worker", "--task-force", "bgtest"], cwd=REPO, env=env,
                             stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"worker{i}.log", "w"))
            for i in range(n)]


def _fired(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(Timer).where(Timer.status == "fired")).scalar_one()


def _sent(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(OutboxItem).where(
            OutboxItem.topic == "notice", OutboxItem.status == "done")).scalar_one()


@pytest.mark.postgres_only
def test_two_workers_fire_a_thousand_timers_and_send_their_notices_through_a_kill(backend, fresh_url, tmp_path,
                                                                                   receiver):
    url = fresh_url(backend)
    db = Database(url)
    init_database(db, ROOT)
    clock = FixedClock(datetime(2026, 1, 5, 1, 0, tzinfo=UTC), step=timedelta(milliseconds=1))
    with db.write() as conn:
        load_task_force(conn, BGTEST, clock)
        conn.execute(Channel.__table__.insert(), {"owner_kind": "unit", "owner": "bg_unit", "kind": "webhook",
                                                  "target": receiver.url("/webhook/bg"), "enabled": True,
                                                  "created_at": clock.now()})
    cases = Cases(db, clock)
    with db.write() as conn:
        for i in range(N):
            cases.start(conn, task_force="bgtest", workflow="duty", actor=OFFICE, title=f"报送{i}",
                        parties={"doer": ["bg_unit"]}, payload={"due": "2026-01-06"})
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(Timer)).scalar_one() == N
    procs = _workers(url, tmp_path, 2)
    try:
        deadline = time.monotonic() + 120
        while _fired(db) < N // 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        procs[0].send_signal(signal.SIGKILL)  # mid-round: its claimed batch rolls back
        procs[0].wait(10)
        while _fired(db) < N and time.monotonic() < deadline:
            assert procs[1].poll() is None, (tmp_path / "worker1.log").read_text()
            time.sleep(0.1)
        assert _fired(db) == N
        while _sent(db) < N and time.monotonic() < deadline + 60:
            time.sleep(0.2)
        assert _sent(db) == N
        posts = receiver.deliveries
        assert len(posts) == N  # every notice arrived, each under its own delivery id
        # A post is repeated only if the killed worker was sending it: at most one, and with the same id.
        assert sum(posts.values()) - N <= 1
        with db.read() as conn:
            per_case = conn.execute(
                select(CaseHistory.case_id, func.count()).where(CaseHistory.event == "deadline_expired")
                .group_by(CaseHistory.case_id)).all()
        assert len(per_case) == N and {n for _, n in per_case} == {1}
        assert tx.verify(Cases(db)) == []
        procs[1].send_signal(signal.SIGTERM)
        assert procs[1].wait(60) == 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        db.dispose()
