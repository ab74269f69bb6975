"""Published workflow definitions; a published (name, version) never changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId
from db.types import JsonType, UTCDateTime


class Definition(Base):
    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("task_force_code", "name", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_force_code: Mapped[str] = mapped_column(ForeignKey("task_forces.code"))
    name: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    # The parsed YAML, so a case can always be replayed against the exact version it pinned.
    spec: Mapped[dict[str, Any]] = mapped_column(JsonType)
    source_path: Mapped[str] = mapped_column(String(300))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
