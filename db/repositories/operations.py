"""What the operator reads: the write probe, heartbeats, failures, backlogs; and what `verify` hashes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from db.models import (
    Attachment,
    Case,
    CaseHistory,
    Document,
    JobFailure,
    OutboxItem,
    Setting,
    Timer,
    WorkerHeartbeat,
)

_beats = WorkerHeartbeat.__table__
_failures = JobFailure.__table__
_outbox = OutboxItem.__table__
_timers = Timer.__table__
_history = CaseHistory.__table__
_cases = Case.__table__
_settings = Setting.__table__
_attachments = Attachment.__table__
_documents = Document.__table__

PROBE_KEY = "ready_probe"
# The outbox topics an operator watches, by what they carry.
TOPICS = ("document", "notice")


def probe_write(conn: Connection, now: datetime) -> None:
    """Upsert one small row: proves the database takes a write (run it in a transaction that commits)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(_settings).values(key=PROBE_KEY, value={"at": now.isoformat()})
    conn.execute(stmt.on_conflict_do_update(index_elements=[_settings.c.key], set_={"value": stmt.excluded.value}))


@dataclass(frozen=True, slots=True)
class Heartbeat:
    worker: str
    task: str
    host: str
    pid: int
    started_at: datetime
    beat_at: datetime
    rounds: int
    last_error: str | None
    last_error_at: datetime | None


def heartbeats(conn: Connection) -> list[Heartbeat]:
    """Every worker row, newest beat first within each task."""
    cols = (_beats.c.worker, _beats.c.task, _beats.c.host, _beats.c.pid, _beats.c.started_at, _beats.c.beat_at,
            _beats.c.rounds, _beats.c.last_error, _beats.c.last_error_at)
    return [Heartbeat(*r) for r in conn.execute(select(*cols).order_by(_beats.c.task, _beats.c.beat_at.desc()))]


def newest_beats(conn: Connection) -> dict[str, datetime]:
    """task -> the newest beat of any of its workers."""
    return dict(conn.execute(select(_beats.c.task, func.max(_beats.c.beat_at)).group_by(_beats.c.task)).all())


@dataclass(frozen=True, slots=True)
class Failure:
    key: str
    task: str
    task_force_code: str | None
    attempts: int
    first_at: datetime
    last_at: datetime
    next_at: datetime
    last_error: str


def job_failures(conn: Connection, task_force: str | None = None, limit: int = 200) -> list[Failure]:
    """Failures, latest first; with a task force, its own and those of no task force (a whole round)."""
    cols = (_failures.c.key, _failures.c.task, _failures.c.task_force_code, _failures.c.attempts,
            _failures.c.first_at, _failures.c.last_at, _failures.c.next_at, _failures.c.last_error)
    stmt = select(*cols).order_by(_failures.c.last_at.desc()).limit(limit)
    if task_force is not None:
        stmt = stmt.where(or_(_failures.c.task_force_code == task_force, _failures.c.task_force_code.is_(None)))
    return [Failure(*r) for r in conn.execute(stmt)]


def job_failure_counts(conn: Connection) -> dict[str, int]:
    """task -> failures kept for retry."""
    return dict(conn.execute(select(_failures.c.task, func.count()).group_by(_failures.c.task)).all())


@dataclass(frozen=True, slots=True)
class DueTimer:
    id: int
    case_id: int
    case_number: str
    action: str
    deadline: str | None
    due_at: datetime
    attempts: int


def oldest_due_timer(conn: Connection, now: datetime, task_force: str | None = None) -> DueTimer | None:
    """The pending timer that should have fired longest ago (None when none is overdue)."""
    stmt = (select(_timers.c.id, _timers.c.case_id, _cases.c.number, _timers.c.action, _timers.c.deadline,
                   _timers.c.due_at, _timers.c.attempts)
            .join(_cases, _cases.c.id == _timers.c.case_id)
            .where(_timers.c.status == "pending", _timers.c.due_at <= now)
            .order_by(_timers.c.due_at, _timers.c.id).limit(1))
    if task_force is not None:
        stmt = stmt.where(_cases.c.task_force_code == task_force)
    row = conn.execute(stmt).first()
    return DueTimer(*row) if row else None


def outbox_counts(conn: Connection) -> dict[tuple[str, str], int]:
    """(topic, status) -> items, for the watched topics' pending and failed items."""
    stmt = (select(_outbox.c.topic, _outbox.c.status, func.count())
            .where(_outbox.c.topic.in_(TOPICS), _outbox.c.status.in_(("pending", "failed")))
            .group_by(_outbox.c.topic, _outbox.c.status))
    return {(topic, status): n for topic, status, n in conn.execute(stmt)}


@dataclass(frozen=True, slots=True)
class OutboxProblem:
    id: int
    topic: str
    status: str
    case_id: int | None
    case_number: str | None
    attempts: int
    created_at: datetime
    available_at: datetime
    last_error: str | None
    payload: dict[str, Any]


def outbox_backlog(conn: Connection, topic: str, task_force: str | None = None, limit: int = 100
                   ) -> list[OutboxProblem]:
    """Items of a topic still pending or given up on, failed first, then oldest first."""
    stmt = (select(_outbox.c.id, _outbox.c.topic, _outbox.c.status, _outbox.c.case_id, _cases.c.number,
                   _outbox.c.attempts, _outbox.c.created_at, _outbox.c.available_at, _outbox.c.last_error,
                   _outbox.c.payload)
            .outerjoin(_cases, _cases.c.id == _outbox.c.case_id)
            .where(_outbox.c.topic == topic, _outbox.c.status.in_(("pending", "failed")))
            .order_by((_outbox.c.status == "failed").desc(), _outbox.c.created_at, _outbox.c.id).limit(limit))
    if task_force is not None:
        stmt = stmt.where(_cases.c.task_force_code == task_force)
    return [OutboxProblem(*r) for r in conn.execute(stmt)]


def events_since(conn: Connection, since: datetime) -> int:
    """History rows written at or after `since` (every event, creation and migration is one)."""
    return conn.execute(select(func.count()).select_from(_history).where(_history.c.at >= since)).scalar_one()


# --- what `gongzhi verify` checks beyond the histories ------------------------------------------

def attachment_hashes(conn: Connection) -> Iterator[tuple[int, int, str, int, str]]:
    """(attachment id, case id, sha256, size, filename) of every attachment."""
    stmt = select(_attachments.c.id, _attachments.c.case_id, _attachments.c.sha256, _attachments.c.size,
                  _attachments.c.filename).order_by(_attachments.c.id)
    yield from conn.execute(stmt)


def document_ids(conn: Connection) -> list[int]:
    return list(conn.execute(select(_documents.c.id).order_by(_documents.c.id)).scalars())


def document_content(conn: Connection, document_id: int) -> tuple[str, str, int, bytes] | None:
    """(number, recorded sha256, recorded size, bytes) of one archived document."""
    row = conn.execute(select(_documents.c.number, _documents.c.sha256, _documents.c.size, _documents.c.content)
                       .where(_documents.c.id == document_id)).first()
    return tuple(row) if row else None  # type: ignore[return-value]
