"""The background work's own records: worker heartbeats and failures kept for retry with backoff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.types import UTCDateTime


class WorkerHeartbeat(Base):
    """One row per background task of a running process (embedded server or `gongzhi worker`)."""

    __tablename__ = "worker_heartbeats"

    # host:pid:task — a restarted process writes a new row; stale rows tell of processes gone.
    worker: Mapped[str] = mapped_column(String(160), primary_key=True)
    task: Mapped[str] = mapped_column(String(40), index=True)
    host: Mapped[str] = mapped_column(String(100))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobFailure(Base):
    """A piece of background work that failed (one cadence of one task force, one timer, ...):
    why, how often, and when it is tried again. Deleted when it next succeeds."""

    __tablename__ = "job_failures"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    task: Mapped[str] = mapped_column(String(40))
    task_force_code: Mapped[str | None] = mapped_column(String(60), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text)
