"""Work inside a unit: who in the unit handles a case (分办), who stands in for whom (委托), which other
units read a case (抄送) and when each reader first opened it. The case's history holds every change;
these tables are the current state, for fast look-up."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId
from db.types import UTCDateTime


class CaseAssignment(Base):
    """The 承办人 one party unit has put on a case: one per (case, unit)."""

    __tablename__ = "case_assignments"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Delegation(Base):
    """An account's stand-in between two local (Beijing) days, both inclusive, unless cancelled."""

    __tablename__ = "delegations"
    __table_args__ = (Index("ix_delegations_delegate_id_ends_on", "delegate_id", "ends_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delegator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseShare(Base):
    """A unit a case is shared with for reading (抄送/传阅): it sees the case, it does not act on it."""

    __tablename__ = "case_shares"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True, index=True)
    shared_by: Mapped[str] = mapped_column(String(80))
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseRead(Base):
    """A reader's first opening of a case shared with its unit (the read receipt)."""

    __tablename__ = "case_reads"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    reader_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    reader_name: Mapped[str] = mapped_column(String(100))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())
