"""Jurisdictions, units and task forces: who exists and who sits where."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId
from db.types import JsonType


class Jurisdiction(Base):
    __tablename__ = "jurisdictions"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(20))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"), index=True)
    # The top-level member (city or new area) under the root; cross-city checks compare it.
    top_code: Mapped[str | None] = mapped_column(String(40))


class Unit(Base):
    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdictions.code"), index=True)
    duties: Mapped[str | None] = mapped_column(Text)


class TaskForce(Base):
    __tablename__ = "task_forces"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(100))
    doc_prefix: Mapped[str] = mapped_column(String(50))
    office_hosts: Mapped[list[str]] = mapped_column(JsonType)
    roles: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    content_hash: Mapped[str] = mapped_column(String(64))


class TaskForceUnit(Base):
    __tablename__ = "task_force_units"

    task_force_code: Mapped[str] = mapped_column(ForeignKey("task_forces.code"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)
    member: Mapped[bool] = mapped_column(Boolean)


class TaskForcePosition(Base):
    __tablename__ = "task_force_positions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_force_code: Mapped[str] = mapped_column(ForeignKey("task_forces.code"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    position: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    holder: Mapped[str] = mapped_column(String(100))
