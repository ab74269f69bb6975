"""Deadlines declared in definitions, against hand-checked dates (2026 PRC schedule)."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import select

from db.models import Deadline, Timer
from engine.calendar import WorkCalendar, default_calendar
from engine.cases import Cases
from engine.clock import FixedClock
from engine.deadlines import recompute_provisional
from tests import tx
from tests.conftest import OFFICE, A, B, end_of, local


def deadline(db, case_id, name):
    with db.read() as conn:
        return conn.execute(select(Deadline.__table__).where(Deadline.case_id == case_id,
                                                             Deadline.name == name)).one()


def timers(db, case_id):
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(select(Timer.deadline, Timer.action, Timer.due_at, Timer.status)
                                               .where(Timer.case_id == case_id).order_by(Timer.id))]


def ticket(cases):
    return tx.start(cases, task_force="toy", workflow="ticket", actor=A, title="期限测试", payload={"summary": "s"})


@pytest.fixture
def fixed():
    return FixedClock(local(2026, 2, 12, 10))


@pytest.fixture
def tcases(db, fixed):
    return Cases(db, fixed)


def test_make_up_saturday_counts_and_spring_festival_is_skipped(tcases, db, fixed):
    case = ticket(tcases)  # Thursday 12 February 2026
    # 2 working days: Fri 13 Feb, then Sat 14 Feb, a 调休 working day.
    assert case.due_at == end_of(2026, 2, 14)
    row = deadline(db, case.id, "assign_by")
    assert (row.status, row.provisional, row.rule) == ("running", False, {"amount": 2, "unit": "working_day", "flag": None,
                                                                "assessed": True})
    assert timers(db, case.id) == [("assign_by", "expire", end_of(2026, 2, 14), "pending")]
    case = tx.fire(tcases, case, "assign", A, {"handler": "t_b_bureau"})
    fixed.set(local(2026, 2, 13, 9))
    case = tx.fire(tcases, case, "start", B)
    # 5 working days from Fri 13 Feb: Sat 14 (调休), then 15–23 Feb off (春节), 24, 25, 26, 27 Feb.
    assert case.due_at == end_of(2026, 2, 27)
    with db.read() as conn:
        role = conn.execute(select(Deadline.owner_role).where(Deadline.case_id == case.id,
                                                              Deadline.name == "fix_by")).scalar_one()
    assert role == "handler"
    assert deadline(db, case.id, "assign_by").status == "met"
    ts = timers(db, case.id)
    assert ("assign_by", "expire", end_of(2026, 2, 14), "cancelled") in ts
    assert ("fix_by", "expire", end_of(2026, 2, 27), "pending") in ts
    warn = deadline(db, case.id, "fix_by").warn_at
    assert warn == local(2026, 2, 13, 9).astimezone(UTC) + (end_of(2026, 2, 27) - local(2026, 2, 13, 9)) * 0.5


def test_pause_adds_back_the_working_days_it_stood_still(tcases, db, fixed):
    case = ticket(tcases)
    case = tx.fire(tcases, case, "assign", A, {"handler": "t_b_bureau"})
    fixed.set(local(2026, 2, 13, 9))
    case = tx.fire(tcases, case, "start", B)
    assert case.due_at == end_of(2026, 2, 27)
    fixed.set(local(2026, 2, 24, 10))
    case = tx.fire(tcases, case, "hold", OFFICE)
    assert deadline(db, case.id, "fix_by").status == "paused"
    assert all(t[3] != "pending" for t in timers(db, case.id) if t[0] == "fix_by")
    fixed.set(local(2026, 3, 2, 10))
    case = tx.fire(tcases, case, "unhold", OFFICE)
    # Paused over 25, 26, 27, 28 (调休 Saturday) Feb and 2 Mar: 5 working days added to 27 Feb.
    assert case.due_at == end_of(2026, 3, 5)
    assert deadline(db, case.id, "fix_by").status == "running"


def test_extension_moves_the_due_date_and_rearms(tcases, db, fixed):
    case = ticket(tcases)
    case = tx.fire(tcases, case, "assign", A, {"handler": "t_b_bureau"})
    case = tx.fire(tcases, case, "start", B)
    case = tx.fire(tcases, case, "extend", OFFICE, {"new_due": "2026-03-20"})
    assert case.due_at == end_of(2026, 3, 20)
    row = deadline(db, case.id, "fix_by")
    assert row.extensions == 1
    pending = [t for t in timers(db, case.id) if t[3] == "pending" and t[0] == "fix_by"]
    assert ("fix_by", "expire", end_of(2026, 3, 20), "pending") in pending and len(pending) == 2  # warn + expire
    case = tx.fire(tcases, case, "finish", B, {"result": "done"})
    assert deadline(db, case.id, "fix_by").status == "met"
    assert case.due_at is None


@pytest.mark.parametrize(("urgent", "due"), [(False, (2026, 2, 28)), (True, (2026, 1, 15))])
def test_reply_clock_from_the_date_of_service(tcases, db, urgent, due):
    case = ticket(tcases)
    case = tx.fire(tcases, case, "assign", A, {"handler": "t_b_bureau"})
    tx.fire(tcases, case, "serve", OFFICE, {"served_on": "2025-12-31", "urgent": urgent})
    row = deadline(db, case.id, "reply")
    # Two months from 31 Dec end on 28 Feb (no 29th); 28 Feb 2026 is a 调休 working Saturday, so it
    # stays. Fifteen calendar days from 31 Dec: 15 Jan, a Thursday.
    assert row.due_at == end_of(*due)
    assert row.started_at == local(2025, 12, 31, 12).astimezone(UTC)


def test_a_year_without_schedule_is_provisional_until_loaded(db, fixed):
    partial = WorkCalendar([s for y in sorted(default_calendar().years) if y < 2026
                            if (s := default_calendar().schedule(y))])
    cases = Cases(db, fixed, partial)
    case = ticket(cases)
    row = deadline(db, case.id, "assign_by")
    # Weekends alone: Fri 13, Mon 16 Feb. Flagged, never silently trusted.
    assert row.provisional and case.due_at == end_of(2026, 2, 16)
    full = Cases(db, fixed)
    with db.write() as conn:
        assert recompute_provisional(full, conn) == 1
    row = deadline(db, case.id, "assign_by")
    assert not row.provisional and row.due_at == end_of(2026, 2, 14)
    current = tx.load(full, case.id)
    assert current.due_at == end_of(2026, 2, 14)
    assert tx.history(full, case.id)[-1].event == "deadline_recomputed"
    assert ("assign_by", "expire", end_of(2026, 2, 14), "pending") in timers(db, case.id)
    assert tx.verify(full) == []
