"""The background work runs by itself and one broken piece stops nothing else."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.background import Background, Task
from db.models import CadenceRun, Case, JobFailure, WorkerHeartbeat
from db.settings import Settings
from engine.cases import Cases
from engine.clock import FixedClock

REPO = Path(__file__).resolve().parents[2]
BGTEST = REPO / "tests" / "fixtures" / "bgtest"


def _root(db, tmp_path: Path, *, broken_file: bool = False) -> Path:
    """A workflows root holding the real two-lakes folder and a task force with a broken cadence."""
    from engine.publishing import load_task_force

    with db.write() as conn:
        load_task_force(conn, BGTEST, FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
    root = tmp_path / "root"
    (root / "bgtest").mkdir(parents=True)
    (root / "two_lakes").symlink_to(REPO / "workflows" / "two_lakes")
    for name in ("organisation.yaml", "definitions"):
        (root / "bgtest" / name).symlink_to(BGTEST / name)
    cadences = (BGTEST / "cadences.yaml").read_text("utf-8")
    (root / "bgtest" / "cadences.yaml").write_text("cadences: [ {code: x" if broken_file else cadences, "utf-8")
    return root


def _count(db, model, *where) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_a_broken_cadence_leaves_every_other_duty_materialising(db, tmp_path):
    clock = FixedClock(datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    work = Background(db, Cases(db, clock), Settings(), _root(db, tmp_path))
    work.clock_round()
    # Every two-lakes cadence of the second quarter and April, and the test task force's good cadence.
    assert _count(db, CadenceRun, CadenceRun.task_force_code == "two_lakes") > 40
    assert _count(db, CadenceRun, CadenceRun.task_force_code == "bgtest", CadenceRun.cadence == "monthly") == 1
    with db.read() as conn:
        failures = conn.execute(select(JobFailure)).all()
    assert [(f.key, f.task_force_code, f.attempts) for f in failures] == [("cadence:bgtest:broken", "bgtest", 1)]
    assert "no_such_workflow" in failures[0].last_error
    # Before its next try the broken cadence is left alone; after it, tried again and counted.
    work.clock_round()
    assert _count(db, JobFailure, JobFailure.attempts == 1) == 1
    clock.advance(timedelta(minutes=1))
    work.clock_round()
    with db.read() as conn:
        again = conn.execute(select(JobFailure)).one()
    assert again.attempts == 2 and again.next_at - clock.now() > timedelta(seconds=30)
    assert _count(db, CadenceRun, CadenceRun.task_force_code == "bgtest") == 1  # nothing made twice
    # An operator sees it: /metrics counts it, by task.
    from fastapi.testclient import TestClient

    from api.app import create_app

    metrics = TestClient(create_app(Settings(environment="test", data_dir=tmp_path), db, clock)).get("/metrics").text
    assert re.search(r'^gongzhi_job_failures\{task="cadence"\} 1(\.0)?$', metrics, re.M), metrics


def test_a_cadences_file_that_does_not_parse_is_recorded_and_the_others_run(db, tmp_path):
    clock = FixedClock(datetime(2026, 7, 1, 2, 0, tzinfo=UTC))
    Background(db, Cases(db, clock), Settings(), _root(db, tmp_path, broken_file=True)).clock_round()
    assert _count(db, CadenceRun, CadenceRun.task_force_code == "two_lakes") > 40
    with db.read() as conn:
        failure = conn.execute(select(JobFailure)).one()
    assert failure.key == "cadences:bgtest" and "cadences.yaml" in failure.last_error


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_task_is_restarted_and_a_failing_round_is_recorded(db):
    calls = {"n": 0}

    def dies_once() -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise SystemExit("the thread dies")  # not an Exception: only the supervisor can bring it back
        if calls["n"] == 2:
            raise RuntimeError("a failing round")
        return 0

    clock = FixedClock(datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    task = Task("probe", 0.05, dies_once)
    work = Background(db, Cases(db, clock), Settings(), REPO / "workflows", tasks=[task]).start()
    try:
        deadline = time.monotonic() + 10
        while calls["n"] < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        work.stop()
    assert task.restarts == 1 and task.errors == 1 and calls["n"] >= 4
    with db.read() as conn:
        beat = conn.execute(select(WorkerHeartbeat).where(WorkerHeartbeat.task == "probe")).one()
    assert "RuntimeError: a failing round" in beat.last_error or "restarted" in beat.last_error


def test_gongzhi_worker_beats_and_stops_cleanly_on_sigterm(tmp_path, backend, fresh_url):
    from db.session import Database
    from engine.bootstrap import init_database
    from workflows import ROOT

    url = fresh_url(backend)
    init_database(Database(url), ROOT)
    env = {**os.environ, "GONGZHI_DATABASE_URL": url, "GONGZHI_LOG_JSON": "false",
           "GONGZHI_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    db = Database(url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if _count(db, WorkerHeartbeat) >= 3:
                break
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.2)
        with db.read() as conn:
            tasks = set(conn.execute(select(WorkerHeartbeat.task)).scalars())
        assert tasks == {"clock", "documents", "notices"}
        # The real clock materialised this period's duties of every task force.
        assert _count(db, Case) > 0
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        db.dispose()
