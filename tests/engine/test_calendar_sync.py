"""A holiday year published while processes run: stored by init, taken up by each process's clock round,
and the provisional deadlines recomputed with their timers — no restart."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import select

from db.models import Deadline, Setting, Timer
from db.repositories import time as trepo
from engine.bootstrap import init_database
from engine.calendar import WorkCalendar, YearSchedule
from engine.calendar_sync import VERSION_KEY, store_calendar, sync_calendar
from engine.cases import Cases
from engine.clock import FixedClock
from engine.deadlines import provisional_dues
from tests import tx
from tests.conftest import A, B, end_of, local
from workflows import ROOT

YEAR_2027 = """\
year: 2027
source: 测试用安排
holidays:
  - {date: 2027-01-01, name: 元旦}
workdays: []
"""


@pytest.fixture
def fixed():
    return FixedClock(local(2026, 12, 28, 10))  # Monday 28 December 2026


def fix_by(db, case_id):
    with db.read() as conn:
        return conn.execute(select(Deadline.__table__).where(Deadline.case_id == case_id,
                                                             Deadline.name == "fix_by")).one()


def pending(db, case_id):
    with db.read() as conn:
        return sorted((r.action, r.due_at) for r in conn.execute(
            select(Timer.action, Timer.due_at).where(Timer.case_id == case_id, Timer.deadline == "fix_by",
                                                     Timer.status == "pending")))


def working_ticket(cases):
    case = tx.start(cases, task_force="toy", workflow="ticket", actor=A, title="跨年期限", payload={"summary": "s"})
    case = tx.fire(cases, case, "assign", A, {"handler": "t_b_bureau"})
    return tx.fire(cases, case, "start", B)


def test_a_process_started_before_the_year_sees_it_once_init_stores_it(db, fixed, tmp_path):
    running = Cases(db, fixed)  # the server's case service, built before 2027 was published
    assert not running.deadlines.calendar.has_schedule(2027)
    case = working_ticket(running)
    # 5 working days from Mon 28 Dec on weekends alone: 29, 30, 31 Dec, Fri 1 Jan, Mon 4 Jan.
    row = fix_by(db, case.id)
    assert (row.due_at, row.provisional, row.rule["missing_years"]) == (end_of(2027, 1, 4), True, [2027])
    with db.read() as conn:
        assert provisional_dues(conn, [case.id]) == {case.id: "暂定：2027年节假日安排尚未公布，按周末推算"}
    assert running.deadlines.calendar_version is None

    (tmp_path / "2027.yaml").write_text(YEAR_2027, encoding="utf-8")
    init_database(db, ROOT, fixed, calendar_dir=tmp_path)
    with db.read() as conn:
        assert trepo.get_setting(conn, "calendar:2027")["holidays"] == [{"date": "2027-01-01", "name": "元旦"}]
        version = trepo.get_setting(conn, VERSION_KEY)
    assert 2027 in version["years"]

    # init recomputed the deadline: 1 January is 元旦, so 29, 30, 31 Dec, 4 and 5 Jan.
    row = fix_by(db, case.id)
    assert (row.due_at, row.provisional, "missing_years" in row.rule) == (end_of(2027, 1, 5), False, False)
    started = local(2026, 12, 28, 10).astimezone(UTC)
    assert pending(db, case.id) == sorted([("expire", end_of(2027, 1, 5)),
                                           ("warn", started + (end_of(2027, 1, 5) - started) * 0.5)])
    assert tx.load(running, case.id).due_at == end_of(2027, 1, 5)
    with db.read() as conn:
        assert provisional_dues(conn, [case.id]) == {}

    # The running process takes the year up on its next clock round, without a restart.
    assert sync_calendar(running) == 0  # init already recomputed; nothing left to do
    assert running.deadlines.calendar.has_schedule(2027)
    assert running.deadlines.calendar_version == version["version"]
    later = working_ticket(running)
    assert (fix_by(db, later.id).due_at, fix_by(db, later.id).provisional) == (end_of(2027, 1, 5), False)
    assert tx.verify(running) == []


def test_the_clock_round_itself_recomputes_and_is_cheap_when_nothing_changed(db, fixed):
    running = Cases(db, fixed)
    case = working_ticket(running)
    assert sync_calendar(running) == 0  # nothing stored: the process keeps its calendar
    schedule = YearSchedule.from_mapping({"year": 2027, "source": "测试", "holidays": [
        {"date": "2027-01-01", "name": "元旦"}]})
    with db.write() as conn:
        assert store_calendar(conn, WorkCalendar([schedule])) == [2027]
        first = trepo.get_setting(conn, VERSION_KEY)["version"]
        assert store_calendar(conn, WorkCalendar([schedule])) == []  # unchanged: the version stays
        assert trepo.get_setting(conn, VERSION_KEY)["version"] == first

    assert sync_calendar(running) == 1
    row = fix_by(db, case.id)
    assert (row.due_at, row.provisional) == (end_of(2027, 1, 5), False)
    notes = [h.payload for h in tx.history(running, case.id) if h.event == "deadline_recomputed"]
    assert notes == [{"deadline": "fix_by", "was": end_of(2027, 1, 4).isoformat(),
                      "now": end_of(2027, 1, 5).isoformat()}]
    assert sync_calendar(running) == 0 and len(tx.history(running, case.id)) == 4  # create, assign, start, note

    # A corrected year moves the version, and every process rebuilds again.
    changed = YearSchedule.from_mapping({"year": 2027, "source": "测试（更正）", "holidays": [
        {"date": "2027-01-01", "name": "元旦"}, {"date": "2027-01-04", "name": "元旦", "in_lieu": True}]})
    with db.write() as conn:
        assert store_calendar(conn, WorkCalendar([changed])) == [2027]
        assert trepo.get_setting(conn, VERSION_KEY)["version"] != first
        assert YearSchedule.from_mapping(trepo.get_setting(conn, "calendar:2027")) == changed
    sync_calendar(running)
    assert running.deadlines.calendar.holiday_name(local(2027, 1, 4)) == "元旦"
    with db.read() as conn:
        assert conn.execute(select(Setting.key).where(Setting.key == "calendar:2027")).scalar_one()


def test_tick_takes_a_published_year_up_at_the_start_of_its_day(db, fixed, tmp_path):
    from datetime import date

    from engine.cadences import local_midnight
    from engine.scheduler import tick

    running = Cases(db, fixed)
    case = working_ticket(running)
    schedule = YearSchedule.from_mapping({"year": 2027, "source": "测试", "holidays": [
        {"date": "2027-01-01", "name": "元旦"}]})
    with db.write() as conn:
        store_calendar(conn, WorkCalendar([schedule]))
    tick(running, fixed, tmp_path, date(2026, 12, 29), start=date(2026, 12, 29))  # no cadences under tmp_path
    assert (fix_by(db, case.id).due_at, fix_by(db, case.id).provisional) == (end_of(2027, 1, 5), False)
    (note,) = [h for h in tx.history(running, case.id) if h.event == "deadline_recomputed"]
    assert note.at == local_midnight(date(2026, 12, 29))  # dated in simulated time, not the machine's
