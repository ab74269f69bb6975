"""Every SQL statement about work inside a unit: case assignments (分办), shares (抄送) and read receipts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from db.models import CaseAssignment, CaseRead, CaseShare, User

assignments = CaseAssignment.__table__
shares = CaseShare.__table__
reads = CaseRead.__table__
users = User.__table__


@dataclass(frozen=True, slots=True)
class Assignee:
    unit: str
    user_id: int
    name: str
    assigned_at: datetime


def _assignees(conn: Connection, where) -> list[Assignee]:
    stmt = (select(assignments.c.unit_code, assignments.c.user_id, users.c.display_name, assignments.c.assigned_at,
                   assignments.c.case_id)
            .join(users, users.c.id == assignments.c.user_id).where(where))
    return conn.execute(stmt).all()


def assignee(conn: Connection, case_id: int, unit: str) -> Assignee | None:
    rows = _assignees(conn, (assignments.c.case_id == case_id) & (assignments.c.unit_code == unit))
    return Assignee(*rows[0][:4]) if rows else None


def assignees_of_case(conn: Connection, case_id: int) -> list[Assignee]:
    return [Assignee(*r[:4]) for r in _assignees(conn, assignments.c.case_id == case_id)]


def assignees_in_unit(conn: Connection, case_ids: Iterable[int], unit: str) -> dict[int, Assignee]:
    """case id -> the 承办人 `unit` has put on it, for the cases that have one."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    rows = _assignees(conn, assignments.c.case_id.in_(ids) & (assignments.c.unit_code == unit))
    return {r[4]: Assignee(*r[:4]) for r in rows}


def put(conn: Connection, case_id: int, unit: str, user_id: int, at: datetime) -> None:
    """Set the unit's 承办人 on the case (the case row is already held at its version by the note)."""
    moved = conn.execute(update(assignments).where(assignments.c.case_id == case_id, assignments.c.unit_code == unit)
                         .values(user_id=user_id, assigned_at=at)).rowcount
    if not moved:
        conn.execute(insert(assignments), {"case_id": case_id, "unit_code": unit, "user_id": user_id,
                                           "assigned_at": at})


def shared_units(conn: Connection, case_id: int) -> list[tuple[str, str, datetime]]:
    """(unit, shared by, when) of every unit the case is shared with, in the order shared."""
    stmt = (select(shares.c.unit_code, shares.c.shared_by, shares.c.shared_at).where(shares.c.case_id == case_id)
            .order_by(shares.c.shared_at, shares.c.unit_code))
    return [tuple(r) for r in conn.execute(stmt)]


def is_shared_with(conn: Connection, case_id: int, unit: str) -> bool:
    stmt = select(shares.c.case_id).where(shares.c.case_id == case_id, shares.c.unit_code == unit)
    return conn.execute(stmt).first() is not None


def add_shares(conn: Connection, case_id: int, units: Iterable[str], by: str, at: datetime) -> None:
    rows = [{"case_id": case_id, "unit_code": u, "shared_by": by, "shared_at": at} for u in units]
    if rows:
        conn.execute(insert(shares), rows)


def receipts(conn: Connection, case_id: int) -> list[tuple[str, str, str, datetime]]:
    """(reader id, reader name, unit, first read) of the case, earliest first."""
    stmt = (select(reads.c.reader_id, reads.c.reader_name, reads.c.unit_code, reads.c.read_at)
            .where(reads.c.case_id == case_id).order_by(reads.c.read_at, reads.c.reader_id))
    return [tuple(r) for r in conn.execute(stmt)]


def has_read(conn: Connection, case_id: int, reader_id: str) -> bool:
    stmt = select(reads.c.case_id).where(reads.c.case_id == case_id, reads.c.reader_id == reader_id)
    return conn.execute(stmt).first() is not None


def add_receipt(conn: Connection, case_id: int, reader_id: str, reader_name: str, unit: str, at: datetime) -> None:
    conn.execute(insert(reads), {"case_id": case_id, "reader_id": reader_id, "reader_name": reader_name,
                                 "unit_code": unit, "read_at": at})


def drop_case(conn: Connection, case_id: int) -> None:
    """Forget a case's assignments, shares and receipts (kept for tools that delete cases)."""
    for table in (assignments, shares, reads):
        conn.execute(delete(table).where(table.c.case_id == case_id))
