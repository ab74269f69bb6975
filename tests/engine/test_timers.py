"""The clock worker: timers fire once, a timer whose event is no longer allowed is dropped with a
reason, an expired deadline opens the supervision ladder, and meeting the deadline ends it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from db.models import CaseHistory, Timer
from engine.cases import Cases
from engine.clock import FixedClock
from engine.timers import run_due
from engine.views import links, scorecards
from tests import tx
from tests.conftest import A, B, end_of, local


@pytest.fixture
def fixed():
    return FixedClock(local(2026, 2, 12, 10))


@pytest.fixture
def tcases(db, fixed):
    return Cases(db, fixed)


def ticket(cases, title="计时器测试"):
    return tx.start(cases, task_force="toy", workflow="ticket", actor=A, title=title, payload={"summary": "s"})


def timer_rows(db, case_id):
    with db.read() as conn:
        return conn.execute(select(Timer.deadline, Timer.action, Timer.status, Timer.note)
                            .where(Timer.case_id == case_id).order_by(Timer.id)).all()


def test_expiry_fires_the_declared_event_once(tcases, db, fixed):
    case = ticket(tcases)
    fixed.set(local(2026, 2, 14, 23))
    assert run_due(tcases).fired == 0  # due at the very end of 14 Feb, not yet
    fixed.set(local(2026, 2, 15, 0, 1))
    report = run_due(tcases)
    assert report.fired == 1 and report.expired == 1
    assert run_due(tcases).fired == 0
    rows = tx.history(tcases, case.id)
    assert [(r.kind, r.event, r.actor_id) for r in rows[-2:]] == [("note", "deadline_expired", "system"),
                                                                   ("event", "escalate", "system")]
    assert rows[-1].at.astimezone(end_of(2026, 2, 15).tzinfo) == local(2026, 2, 15, 0, 1)
    assert tx.verify(tcases) == []


def test_a_timer_whose_event_is_no_longer_allowed_is_dropped_with_a_reason(tcases, db, fixed):
    case = ticket(tcases)
    tx.fire(tcases, case, "assign", A, {"handler": "t_b_bureau"})  # escalate is only allowed while open
    fixed.set(local(2026, 2, 16, 9))
    report = run_due(tcases)
    assert report.dropped == 1
    ((_, _, status, note),) = timer_rows(db, case.id)
    assert status == "dropped" and "'escalate' not allowed in state 'assigned'" in note
    assert tx.load(tcases, case.id).state == "assigned"


def test_expired_deadline_climbs_the_ladder_and_completion_ends_it(tcases, db, fixed):
    case = ticket(tcases)
    case = tx.fire(tcases, case, "assign", A, {"handler": "t_b_bureau"})
    fixed.set(local(2026, 2, 13, 9))
    case = tx.fire(tcases, case, "start", B)  # fix_by: end of 27 Feb
    fixed.set(local(2026, 2, 20, 23))  # half of the time from 13 Feb 09:00 to the end of 27 Feb
    report = run_due(tcases)
    assert report.warnings == 1 and tx.history(tcases, case.id)[-1].event == "deadline_warning"
    fixed.set(local(2026, 2, 28, 9))
    report = run_due(tcases)
    assert report.ladders_opened == 1
    ((direction, kind, ladder_id, _),) = links(db.engine.connect(), case.id)
    assert (direction, kind) == ("to", "supervision")
    assert links(db.engine.connect(), ladder_id)[0][:2] == ("from", "supervision")
    ladder = tx.load(tcases, ladder_id)
    assert ladder.state == "reminded" and ladder.parties == {"supervised": ["t_b_bureau"]}
    # Two working days after 28 Feb (a 调休 Saturday): 2 and 3 March; yellow fires on the 4th.
    fixed.set(local(2026, 3, 3, 22))
    run_due(tcases)
    assert tx.load(tcases, ladder_id).state == "reminded"
    fixed.set(local(2026, 3, 4, 8))
    run_due(tcases)
    ladder = tx.load(tcases, ladder_id)
    assert ladder.state == "yellow"
    yellow = tx.history(tcases, ladder_id)[-1]
    assert (yellow.event, yellow.actor_id, yellow.at) == ("yellow", "system", local(2026, 3, 4, 8))
    # Climbing further needs a person: the clock has nothing more to fire.
    fixed.set(local(2026, 4, 30, 8))
    run_due(tcases)
    assert tx.load(tcases, ladder_id).state == "yellow"
    case = tx.fire(tcases, case.id, "finish", B, {"result": "整改完成"})
    assert tx.load(tcases, ladder_id).state == "cancelled"
    with db.read() as conn:
        cards = scorecards(conn, "toy", local(2026, 1, 1), local(2027, 1, 1))
    assert cards["t_b_bureau"].cards["yellow"] == 1
    assert cards["t_b_bureau"].deadlines_late == 1 and cards["t_b_bureau"].on_time_rate == 0.0
    assert tx.verify(tcases) == []


@pytest.mark.postgres_only
def test_two_workers_fire_a_thousand_timers_exactly_once(backend, db):
    start = FixedClock(local(2026, 3, 2, 9))
    seeding = Cases(db, start)
    with db.write() as conn:  # one transaction: seeding is not what this test measures
        ids = [seeding.start(conn, task_force="toy", workflow="ticket", actor=A, title=f"工单{i}",
                             payload={"summary": "s"}).id for i in range(1000)]
    late = FixedClock(local(2026, 3, 10, 9))
    results = []

    def worker():
        results.append(run_due(Cases(db, late), batch=25))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fired = [i for r in results for i in r.fired_ids]
    assert len(fired) == 1000 and len(set(fired)) == 1000
    assert all(r.fired > 0 for r in results), "both workers should have claimed some"
    with db.read() as conn:
        statuses = dict(conn.execute(select(Timer.status, func.count()).group_by(Timer.status)).all())
        escalations = conn.execute(select(CaseHistory.case_id, func.count()).where(CaseHistory.event == "escalate")
                                   .group_by(CaseHistory.case_id)).all()
    assert statuses == {"fired": 1000}
    assert sorted(c for c, _ in escalations) == sorted(ids) and {n for _, n in escalations} == {1}
    assert tx.verify(Cases(db, late)) == []
