"""已阅 on opening a case: the request, not the engine, decides that a read may write.

A shared unit's reader's first look is written as its read receipt. It is checked on a read first, so
other viewers never take the write lock; a lost race (another write moved the case) leaves the receipt
to the next opening.
"""

from __future__ import annotations

from db.session import Database
from engine.access import CaseAccess
from engine.assignment import UnitWork
from engine.errors import NotFound, StaleVersion


def record_first_read(db: Database, access: CaseAccess, case_id: int) -> None:
    """Write the receipt when this opening is a shared-unit reader's first; a write of its own, or none."""
    work = UnitWork(access)
    with db.read() as conn:
        try:
            due = work.reader_due_receipt(conn, case_id)
        except NotFound:  # the page answers for a case it cannot see
            return
    if not due:
        return
    try:
        with db.write() as conn:
            work.note_read(conn, case_id)
    except StaleVersion:
        return
