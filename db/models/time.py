"""Deadlines, timers, case links, materialised cadence periods, and small persisted settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId
from db.types import JsonType, UTCDateTime


class Deadline(Base):
    """A named clock on a case: running, paused, met, late, expired."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_status_due", "status", "due_at"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Computed with a year that had no holiday schedule: recomputed when the schedule is loaded.
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_role: Mapped[str | None] = mapped_column(String(40))
    rule: Mapped[dict[str, Any]] = mapped_column(JsonType)
    extensions: Mapped[int] = mapped_column(Integer, default=0)


class Timer(Base):
    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    deadline: Mapped[str | None] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(20))  # warn | expire
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # pending | fired | dropped | cancelled
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A timer whose processing failed (not refused: failed) is retried after a growing delay.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseLink(Base):
    """A relation between two cases (ladder episode, escalation, decision → action item); read from both ends."""

    __tablename__ = "case_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    from_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    to_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    deadline: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CadenceRun(Base):
    """One materialised period of a recurring duty: the case that stands for it."""

    __tablename__ = "cadence_runs"

    task_force_code: Mapped[str] = mapped_column(ForeignKey("task_forces.code"), primary_key=True)
    cadence: Mapped[str] = mapped_column(String(60), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)


class Setting(Base):
    """Small persisted values, e.g. the simulated clock of `gongzhi tick`."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JsonType)
