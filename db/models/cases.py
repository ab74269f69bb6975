"""Cases, their parties and their append-only history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId
from db.types import JsonType, UTCDateTime


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # "open and past due" must not scan history: state and due date live on the row.
        # Covering: the by-unit count reads the index alone.
        Index("ix_cases_open_due_unit", "closed", "task_force_code", "due_unit", "due_at"),
        Index("ix_cases_tf_state", "task_force_code", "state"),
        # Each task force numbers its own cases: two mechanisms may both have a 报送-2018-0001.
        UniqueConstraint("task_force_code", "number", name="uq_cases_task_force_code_number"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(60))
    task_force_code: Mapped[str] = mapped_column(ForeignKey("task_forces.code"))
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"), index=True)
    state: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    # role -> [unit codes]; mirrored in case_parties for "by unit" queries.
    parties: Mapped[dict[str, list[str]]] = mapped_column(JsonType)
    head_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The party role that is late when due_at passes ("open and past due, by unit").
    due_role: Mapped[str | None] = mapped_column(String(40))
    # The lead unit (主办) of due_role: the first unit holding it. The deadline binds the 主办.
    due_unit: Mapped[str | None] = mapped_column(String(40))


class CaseParty(Base):
    __tablename__ = "case_parties"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)


class CaseHistory(Base):
    __tablename__ = "case_history"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    # create | event | timer | migrate: tells replay how to read the row.
    kind: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(60))
    to_state: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[str] = mapped_column(String(80))
    actor_unit: Mapped[str | None] = mapped_column(String(40))
    actor_role: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
