"""The background work of a deployment: the clock, the document outbox and the delivery of notices.

`gongzhi serve` runs it in threads beside the HTTP server (the embedded shape: one process does
everything); `gongzhi worker` runs it alone, as many processes as wanted beside any number of API
processes on PostgreSQL. Exactly-once comes from the database, not from there being one worker:
timers are claimed and fired in one transaction (FOR UPDATE SKIP LOCKED), documents and notices are
leased, a cadence is materialised under a per-cadence lock.

Every task loops in its own thread, isolated from the others: a round that fails is recorded on the
task's heartbeat and retried after a growing pause; inside a round each task force, each cadence and
each item is isolated too, and a piece of work that keeps failing (a broken cadence) is recorded in
job_failures with its reason and skipped until its next try, while everything else goes on. A
thread that dies is started again by the supervisor. Stopping (SIGTERM) lets each task finish its
round and release what it leased.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from db.repositories import background as bg
from db.session import Database
from db.settings import Settings
from engine.bootstrap import task_force_folders
from engine.cadences import Cadence, materialise, parse_cadences
from engine.cases import Cases
from engine.localtime import local_date
from engine.organisation import parse_organisation

log = logging.getLogger("gongzhi.background")

BACKOFF = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


@dataclass
class Task:
    """One kind of background work: `round()` does one pass and returns how much it did."""

    name: str
    interval: float
    round: Callable[[], int]
    rounds: int = 0
    errors: int = 0
    restarts: int = 0
    last_error: str | None = None
    thread: threading.Thread | None = field(default=None, repr=False)


class Background:
    """The supervised background tasks of one process."""

    def __init__(self, db: Database, cases: Cases, settings: Settings, root: Path,
                 tasks: list[Task] | None = None, task_forces: frozenset[str] | None = None) -> None:
        self.db, self.cases, self.settings, self.root = db, cases, settings, root
        self.task_forces = task_forces
        self.host, self.pid = socket.gethostname()[:100], os.getpid()
        self.started_at = cases.clock.now()
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._materialised_on: date | None = None
        self.tasks = tasks if tasks is not None else self.default_tasks()

    # --- the tasks ---------------------------------------------------------------------------

    def default_tasks(self) -> list[Task]:
        s = self.settings
        return [Task("clock", s.clock_interval, self.clock_round),
                Task("documents", s.documents_interval, self.documents_round),
                Task("notices", s.notices_interval, self.notices_round)]

    def clock_round(self) -> int:
        """Holiday years loaded since, the duties of the current periods (once a day and on failure's
        next try), then every due timer."""
        from engine.calendar_sync import sync_calendar  # holiday years `gongzhi init` stored meanwhile

        done = self._isolated("calendar", None, lambda: sync_calendar(self.cases))
        today = local_date(self.cases.clock.now())
        retry_due = self._failures_due()
        if self._materialised_on != today or retry_due:
            for code, cadences in self._cadences().items():
                for cadence in cadences:
                    key = f"cadence:{code}:{cadence.code}"
                    if self._materialised_on == today and key not in retry_due:
                        continue
                    done += self._isolated(key, code, lambda c=cadence, tf=code: materialise(
                        self.cases, tf, [c], today - timedelta(days=400), today, covering=today))
            self._materialised_on = today
        from engine.timers import run_due

        report = run_due(self.cases)
        for timer_id, error, attempts in report.errors:
            log.warning("timer %s failed (attempt %d): %s", timer_id, attempts, error)
        return done + report.fired

    def documents_round(self) -> int:
        from documents.outbox import process_pending

        outcome = process_pending(self.db, self.cases.clock, limit=20)
        return len(outcome.issued)

    def notices_round(self) -> int:
        from api.notify.delivery import deliver_pending

        outcome = deliver_pending(self.db, self.cases.clock, self.settings, self.cases.deadlines.calendar,
                                  limit=50, stop=self._stop.is_set)
        return len(getattr(outcome, "sent", ()))

    def _cadences(self) -> dict[str, list[Cadence]]:
        """Task force code → its cadences; a folder whose cadences do not parse is recorded and skipped."""
        out: dict[str, list[Cadence]] = {}
        for folder in task_force_folders(self.root):
            code = folder.name
            try:
                code = parse_organisation(folder / "organisation.yaml").code
                if self.task_forces is not None and code not in self.task_forces:
                    continue
                out[code] = parse_cadences(folder / "cadences.yaml")
            except Exception as exc:
                self._failed(f"cadences:{code}", code, exc)
            else:
                self._succeeded(f"cadences:{code}")
        return out

    # --- isolation and its records -------------------------------------------------------------

    def _failures_due(self) -> set[str]:
        now = self.cases.clock.now()
        with self.db.read() as conn:
            return {f.key for f in bg.failures(conn) if f.next_at <= now}

    def _isolated(self, key: str, task_force: str | None, work: Callable[[], int | None]) -> int:
        now = self.cases.clock.now()
        with self.db.read() as conn:
            if bg.backing_off(conn, key, now):
                return 0
        try:
            done = work() or 0
        except Exception as exc:
            self._failed(key, task_force, exc)
            return 0
        self._succeeded(key)
        return int(done)

    def _failed(self, key: str, task_force: str | None, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        log.warning("background work %s failed: %s", key, error)
        with self.db.write() as conn:
            bg.record_failure(conn, key=key, task=key.split(":", 1)[0], task_force=task_force, error=error,
                              now=self.cases.clock.now(), backoff=BACKOFF, cap=BACKOFF_CAP)

    def _succeeded(self, key: str) -> None:
        with self.db.write() as conn:
            bg.clear_failure(conn, key)

    # --- running ------------------------------------------------------------------------------

    def worker_id(self, task: Task) -> str:
        return f"{self.host}:{self.pid}:{task.name}"

    def _beat(self, task: Task, error: str | None) -> None:
        try:
            with self.db.write() as conn:
                bg.beat(conn, worker=self.worker_id(task), task=task.name, host=self.host, pid=self.pid,
                        started_at=self.started_at, now=self.cases.clock.now(), rounds=task.rounds, error=error)
        except Exception as exc:  # the database refuses writes: /ready reports the stale heartbeat
            log.warning("heartbeat of %s not written: %s", task.name, exc)

    def _loop(self, task: Task) -> None:
        pause = task.interval
        last_beat = 0.0
        while not self._stop.is_set():
            error = None
            try:
                # A round that did something may have left more: go again at once; idle, wait.
                pause = 0.0 if task.round() else task.interval
            except Exception as exc:
                task.errors += 1
                error = task.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("background task %s: round failed", task.name)
                pause = min(max(pause * 2, 1.0), 60.0)
            task.rounds += 1
            if error is not None or time.monotonic() - last_beat >= min(5.0, task.interval * 3):
                self._beat(task, error)
                last_beat = time.monotonic()
            self._stop.wait(pause)

    def _start_thread(self, task: Task) -> None:
        task.thread = threading.Thread(target=self._loop, args=(task,), name=f"gongzhi-{task.name}", daemon=True)
        task.thread.start()

    def _supervise(self) -> None:
        while not self._stop.wait(1.0):
            for task in self.tasks:
                if task.thread is not None and not task.thread.is_alive() and not self._stop.is_set():
                    task.restarts += 1
                    log.error("background task %s died; starting it again (restart %d)", task.name, task.restarts)
                    self._beat(task, f"restarted after the thread died (restart {task.restarts})")
                    self._start_thread(task)

    def start(self) -> Background:
        for task in self.tasks:
            self._start_thread(task)
        self._supervisor = threading.Thread(target=self._supervise, name="gongzhi-supervisor", daemon=True)
        self._supervisor.start()
        log.info("background work started: %s", ", ".join(t.name for t in self.tasks))
        return self

    def stop(self, timeout: float = 60.0) -> None:
        """Let each task finish its round, then return."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for task in self.tasks:
            if task.thread is not None:
                task.thread.join(max(0.1, deadline - time.monotonic()))
        if self._supervisor is not None:
            self._supervisor.join(2.0)
        log.info("background work stopped")

    @property
    def stopping(self) -> threading.Event:
        return self._stop

    def run_forever(self) -> None:
        """`gongzhi worker`: run until SIGTERM or SIGINT."""
        import signal

        def _on_signal(signum, _frame) -> None:
            log.info("signal %s: finishing the round", signum)
            self._stop.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        self.start()
        self._stop.wait()
        self.stop()
