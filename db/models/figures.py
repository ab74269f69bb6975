"""Keys that make a case unique in its task force (figures.yaml `unique`)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId


class CaseKey(Base):
    """One row per claimed key: the unique constraint, not a check before the insert, refuses the
    second case — two concurrent creations cannot both pass."""

    __tablename__ = "case_keys"
    __table_args__ = (UniqueConstraint("task_force_code", "workflow", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_force_code: Mapped[str] = mapped_column(ForeignKey("task_forces.code"))
    workflow: Mapped[str] = mapped_column(String(60))
    # SHA-256 of the key's values as canonical JSON (units and field values may be long).
    key: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
