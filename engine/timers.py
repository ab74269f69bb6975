"""The clock worker: fires due timers, each exactly once, in the transaction that marks it fired.

On PostgreSQL several workers may run: they claim with FOR UPDATE SKIP LOCKED. On SQLite one
worker suffices (writers are serialised anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Connection

from db.repositories import time as trepo
from engine.cases import SYSTEM, Cases
from engine.errors import EngineError
from engine.localtime import local_date

MAX_ATTEMPTS = 8
RETRY_BACKOFF = timedelta(seconds=30)  # doubled with each failure


@dataclass
class TickReport:
    failed: int = 0
    errors: list[tuple[int, str, int]] = field(default_factory=list)
    fired: int = 0
    dropped: int = 0
    warnings: int = 0
    expired: int = 0
    ladders_opened: int = 0
    fired_ids: list[int] = field(default_factory=list)

    def add(self, other: TickReport) -> None:
        for name in ("fired", "dropped", "warnings", "expired", "ladders_opened", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.fired_ids.extend(other.fired_ids)
        self.errors.extend(other.errors)


def run_due(cases: Cases, *, batch: int = 50, max_batches: int | None = None) -> TickReport:
    """Fire every timer due by the clock's now; returns what happened."""
    report = TickReport()
    now = cases.clock.now()
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with cases.db.write() as conn:
            claimed = trepo.claim_due(conn, now, batch)
            for timer in claimed:
                # A savepoint per timer: one failing timer is recorded and the batch goes on.
                try:
                    with conn.begin_nested():
                        _process(conn, cases, timer, report)
                except EngineError as exc:
                    # Refused by the engine: firing it again would be refused again.
                    with conn.begin_nested():
                        if trepo.finish_timer(conn, timer.id, "dropped", cases.clock.now(), f"error: {exc}"):
                            report.dropped += 1
                except Exception as exc:  # a fault, not a refusal: keep the timer and try again later
                    with conn.begin_nested():
                        attempts = trepo.retry_timer(conn, timer.id, cases.clock.now(), f"{type(exc).__name__}: {exc}",
                                                     backoff=RETRY_BACKOFF, max_attempts=MAX_ATTEMPTS)
                    report.failed += 1
                    report.errors.append((timer.id, f"{type(exc).__name__}: {exc}", attempts))
        if len(claimed) < batch:
            break
    return report


def _process(conn: Connection, cases: Cases, timer, report: TickReport) -> None:
    now = cases.clock.now()
    case = cases.load(conn, timer.case_id)
    if case.closed:
        if trepo.finish_timer(conn, timer.id, "dropped", now, f"case closed in state {case.state}"):
            report.dropped += 1
        return
    m = cases.machine(conn, case.definition_id)
    spec = m.definition.deadlines.get(timer.deadline) if timer.deadline else None
    if spec is None:
        if trepo.finish_timer(conn, timer.id, "dropped", now, f"deadline {timer.deadline!r} not in this version"):
            report.dropped += 1
        return
    if not trepo.finish_timer(conn, timer.id, "fired", now):
        return  # another worker got it first
    report.fired_ids.append(timer.id)
    deadline = trepo.get_deadline(conn, case.id, spec.name)
    if timer.action == "warn":
        cases.annotate(conn, case, "deadline_warning", SYSTEM,
                       {"deadline": spec.name, "title": spec.title, "due_at": deadline.due_at.isoformat()})
        report.fired += 1
        report.warnings += 1
        return
    # expire
    trepo.set_deadline(conn, case.id, spec.name, status="expired")
    case = cases.annotate(conn, case, "deadline_expired", SYSTEM,
                          {"deadline": spec.name, "title": spec.title, "due_at": deadline.due_at.isoformat()})
    report.fired += 1
    report.expired += 1
    if spec.supervise is not None:
        sup = spec.supervise
        parties = {new_role: case.parties.get(here, []) for new_role, here in sup.parties}
        ladder = cases.start(
            conn, task_force=case.task_force_code, workflow=sup.workflow, actor=SYSTEM,
            title=f"督办：{case.title}", parties={r: u for r, u in parties.items() if u},
            payload={"item": case.number, "deadline": spec.title, "due": local_date(deadline.due_at).isoformat()})
        trepo.link(conn, case.id, ladder.id, "supervision", now, spec.name)
        cases.annotate(conn, case, "supervision_opened", SYSTEM, {"ladder_case": ladder.number,
                                                                  "deadline": spec.name})
        report.ladders_opened += 1
    if spec.on_expiry is not None:
        allowed = m.allowed(case.state, SYSTEM.roles_on(case.parties))
        if spec.on_expiry in allowed:
            cases.fire(conn, case, spec.on_expiry, SYSTEM, {})
        else:
            # The case moved on: record why the event was not fired instead of failing.
            trepo.mark_dropped(conn, timer.id, f"event {spec.on_expiry!r} not allowed in state {case.state!r}; "
                                               f"allowed: {', '.join(allowed) or 'none'}")
            report.dropped += 1
