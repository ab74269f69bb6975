"""Time never runs backwards: in a case's history, in the clock a deployment runs on, and in `tick`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from api.errors import _engine_zh, engine_status
from db.models import Case, CaseHistory
from engine.cases import Cases
from engine.clock import FixedClock
from engine.errors import ClockBehind, ClockConflict
from engine.scheduler import claim_clock, note_simulated_position, schedule, tick
from tests import tx
from tests.conftest import OFFICE, A, end_of, local
from workflows import ROOT


def ticket(cases):
    return tx.start(cases, task_force="toy", workflow="ticket", actor=A, title="时间顺序", payload={"summary": "s"})


def test_a_row_earlier_than_the_last_is_refused_and_nothing_is_written(db):
    clock = FixedClock(local(2026, 3, 2, 10))
    cases = Cases(db, clock)
    case = tx.fire(cases, ticket(cases), "assign", A, {"handler": "t_b_bureau"})
    clock.set(local(2026, 3, 2, 9))  # a server whose clock is an hour behind
    with pytest.raises(ClockBehind) as refused:
        tx.fire(cases, case.id, "note", A, {"text": "迟到的记录"})
    with pytest.raises(ClockBehind), db.write() as conn:
        cases.annotate(conn, case.id, "deadline_warning", OFFICE, {})
    assert tx.load(cases, case.id).version == 2 and len(tx.history(cases, case.id)) == 2
    assert refused.value.details["last_row_at"] == local(2026, 3, 2, 10).astimezone(UTC).isoformat()
    # Mapped once for the API: the server's clock is at fault, so 503, in both languages.
    assert engine_status(refused.value) == 503
    assert "服务器时钟" in _engine_zh(refused.value) and "backwards" in refused.value.message
    # The same moment is not earlier: several rows may share a tick of the clock.
    clock.set(local(2026, 3, 2, 10))
    assert tx.fire(cases, case.id, "note", A, {"text": "同一时刻"}).version == 3


def test_verify_reports_a_history_whose_times_decrease(db):
    clock = FixedClock(local(2026, 3, 2, 10), step=timedelta(minutes=1))
    cases = Cases(db, clock)
    case = tx.fire(cases, ticket(cases), "note", A, {"text": "一"})
    tx.fire(cases, case, "note", A, {"text": "二"})
    assert tx.verify(cases) == []
    with db.write() as conn:  # someone edits the database by hand
        conn.execute(update(CaseHistory).where(CaseHistory.case_id == case.id, CaseHistory.seq == 3)
                     .values(at=local(2026, 3, 1, 10)))
    problems = tx.verify(cases)
    assert any("row 3" in p and "earlier than the row before it" in p for p in problems), problems


def test_the_deployment_clock_is_claimed_and_conflicts_are_refused(db):
    now = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
    # The demo: a simulation that stopped in the past hands over to real time.
    claim_clock(db, "simulated", by="gongzhi simulate", now=now)
    note_simulated_position(db, local(2026, 6, 30, 23, 54), "gongzhi simulate")
    claim_clock(db, "real", by="gongzhi serve", now=now)
    # Once real time has written, a simulated tick is refused, unless forced.
    with pytest.raises(ClockConflict) as refused:
        claim_clock(db, "simulated", by="gongzhi tick", now=now)
    assert "--force" in refused.value.message and "真实时间" in refused.value.message_zh
    assert engine_status(refused.value) == 503
    claim_clock(db, "simulated", by="gongzhi tick", force=True, now=now)
    # A simulation ahead of real time keeps the real clock out: its rows would run backwards.
    note_simulated_position(db, local(2026, 12, 31, 23, 54), "gongzhi tick")
    with pytest.raises(ClockConflict) as ahead:
        claim_clock(db, "real", by="gongzhi clock", now=now)
    assert "2026-12-31 23:54" in ahead.value.message and "2026年12月31日" in ahead.value.message_zh
    # ... until real time has passed it.
    claim_clock(db, "real", by="gongzhi clock", now=datetime(2027, 1, 1, 0, 0, tzinfo=UTC))


def test_tick_fires_an_end_of_day_deadline_on_its_own_day(db, tmp_path):
    clock = FixedClock(local(2026, 3, 2, 10))  # Monday 2 March 2026
    cases = Cases(db, clock)
    case = ticket(cases)
    # assign_by: 2 working days, Tue 3 and Wed 4 March: due at the end of Wednesday; it escalates.
    assert case.due_at == end_of(2026, 3, 4)
    tick(cases, clock, tmp_path, date(2026, 3, 4), start=date(2026, 3, 2))  # no cadences under tmp_path
    fired = [(h.event, h.at) for h in tx.history(cases, case.id) if h.event in ("deadline_expired", "escalate")]
    assert fired == [("deadline_expired", end_of(2026, 3, 4)), ("escalate", end_of(2026, 3, 4))]
    assert tx.verify(cases) == []


def test_schedule_and_tick_touch_only_the_task_forces_named(db):
    # July 2018: the 湖州, 崇川 and 大兴安岭 campaigns all had duties then.
    clock = FixedClock(local(2018, 7, 1, 0))
    cases = Cases(db, clock)

    def per_task_force():
        with db.read() as conn:
            return dict(conn.execute(select(Case.task_force_code, func.count()).group_by(Case.task_force_code)).all())

    created = schedule(cases, ROOT, date(2018, 7, 1), date(2018, 7, 31), ["huzhou"])
    assert created > 0 and per_task_force() == {"huzhou": created}
    report = tick(cases, clock, ROOT, date(2018, 7, 2), start=date(2018, 7, 1), task_forces=["daxinganling"])
    assert report.created > 0 and per_task_force() == {"huzhou": created, "daxinganling": report.created}
    # The same month had 崇川's duties too: the scope is what kept them out.
    assert schedule(cases, ROOT, date(2018, 7, 1), date(2018, 7, 31), ["chongchuan"]) > 0
    assert set(per_task_force()) == {"huzhou", "daxinganling", "chongchuan"}
    with pytest.raises(ValueError, match="no task force nowhere"):
        schedule(cases, ROOT, date(2018, 7, 1), date(2018, 7, 31), ["nowhere"])
