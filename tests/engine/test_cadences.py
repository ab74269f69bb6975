"""Recurring duties: periods, due days, idempotent scheduling, and a simulated year of the two lakes."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from icalendar import Calendar
from sqlalchemy import select

from db.models import Case, Definition
from db.repositories.time import open_past_due_by_unit
from engine.cadences import Cadence, due_day, parse_cadences, periods
from engine.calendar import default_calendar
from engine.cases import Cases
from engine.clock import FixedClock
from engine.ical import feed
from engine.scheduler import schedule, tick
from engine.views import due_items, scorecards
from tests import tx
from tests.conftest import end_of, local
from workflows import ROOT

OFFICE_HEAD = None


def cadence(**kw) -> Cadence:
    base = dict(code="c", title="{period}", workflow="duty_report", every="month", rrule=None, owed_by=("x",),
                owed_filter={}, role="reporter", due={"at_period_end": True}, payload={}, parties={})
    return Cadence(**(base | kw))


def test_periods_and_due_days():
    cal = default_calendar()
    months = list(periods(cadence(), date(2026, 1, 1), date(2026, 12, 31)))
    assert [p.key for p in months][:2] == ["2026-M01", "2026-M02"] and len(months) == 12
    assert months[1].title == "2026年2月" and months[1].end == date(2026, 2, 28)
    quarters = list(periods(cadence(every="quarter"), date(2026, 1, 1), date(2026, 12, 31)))
    assert [(p.key, p.title) for p in quarters][1] == ("2026-Q2", "2026年第二季度")
    halves = list(periods(cadence(every="half_year"), date(2026, 1, 1), date(2026, 12, 31)))
    assert [p.end for p in halves] == [date(2026, 6, 30), date(2026, 12, 31)]
    # 崇川-style "by the 22nd of every month".
    assert due_day(cadence(due={"day_of_month": 22}), months[2], cal) == date(2026, 3, 22)
    # Ten calendar days after January: 10 Feb, a working Tuesday.
    assert due_day(cadence(due={"after_period_end": {"amount": 10, "unit": "calendar_day"}}), months[0], cal) \
        == date(2026, 2, 10)
    # Ten calendar days after September: Saturday 10 Oct, a 调休 working day after National Day — it stands.
    assert due_day(cadence(due={"after_period_end": {"amount": 10, "unit": "calendar_day"}}), months[8], cal) \
        == date(2026, 10, 10)
    # Ten calendar days after July: Monday 10 Aug. Twenty-one after September: Wednesday 21 Oct.
    assert due_day(cadence(due={"after_period_end": {"amount": 10, "unit": "calendar_day"}}), months[6], cal) \
        == date(2026, 8, 10)
    rr = list(periods(cadence(every="rrule", rrule="FREQ=MONTHLY;BYMONTHDAY=15"), date(2026, 1, 1), date(2026, 3, 31)))
    assert [p.start for p in rr] == [date(2026, 1, 15), date(2026, 2, 15), date(2026, 3, 15)]


def counts(db) -> Counter:
    with db.read() as conn:
        rows = conn.execute(select(Definition.name, Case.data).join(Definition, Definition.id == Case.definition_id)
                            .where(Case.task_force_code == "two_lakes")).all()
    return Counter((name, (data or {}).get("kind")) for name, data in rows)


MEMBERS_BUT_OFFICE = 35  # the 36 member units of the annex, less the office itself


def test_schedule_twice_creates_nothing_new(db):
    cases = Cases(db, FixedClock(local(2026, 1, 1, 0)))
    first = schedule(cases, ROOT, date(2026, 1, 1), date(2026, 6, 30))
    # Plenary, topicals, inspections, self-inspections, water data, risk reports (environment and
    # agriculture departments), the project list, comprehensive and five sectors' enforcement.
    assert first == 1 + 2 + 2 + 2 * MEMBERS_BUT_OFFICE + 6 * 5 + 6 + 1 + 1 + 2 * 5
    assert schedule(cases, ROOT, date(2026, 1, 1), date(2026, 6, 30)) == 0


def test_a_simulated_year_of_the_two_lakes(db):
    clock = FixedClock(local(2026, 1, 1, 0))
    cases = Cases(db, clock)
    report = tick(cases, clock, ROOT, date(2026, 12, 31), start=date(2026, 1, 1))
    c = counts(db)
    assert c[("meeting", "plenary")] == 2 and c[("meeting", "topical")] == 4
    assert c[("joint_inspection", None)] == 4
    assert c[("duty_report", "self_inspection")] == 4 * MEMBERS_BUT_OFFICE
    assert c[("duty_report", "water_data")] == 12 * 5
    assert c[("enforcement_action", "comprehensive")] == 2 and c[("enforcement_action", "sector")] == 4 * 5
    assert report.created == 2 + 4 + 4 + 4 * MEMBERS_BUT_OFFICE + 60 + 12 + 2 + 2 + 20
    # Ticking again past the end creates nothing and fires nothing twice.
    again = tick(cases, clock, ROOT, date(2026, 12, 31))
    assert again.created == 0 and again.timers.fired == 0

    # The January water data of 贵阳市生态环境局 was never sent: its ladder climbed, dated.
    with db.read() as conn:
        item = conn.execute(select(Case.id).where(Case.title == "2026年1月贵阳市生态环境局水质水量监测数据")).scalar_one()
        from engine.views import links
        ((_, kind, ladder_id, _),) = links(conn, item)
    assert kind == "supervision"
    steps = [(r.event, r.at.astimezone(local(2026, 1, 1).tzinfo).date()) for r in tx.history(cases, ladder_id)
             if r.kind != "note"]
    # Due at the end of Tue 10 Feb: the reminder that same day (its deadline fires on its own day, not
    # the next); yellow 2 working days later, at the end of Thu 12 Feb; red proposed 7 working days
    # after that: Fri 13, Sat 14 (调休), then 15–23 Feb off (春节), 24, 25, 26, 27 and Sat 28 Feb (调休).
    assert steps == [("create", date(2026, 2, 10)), ("yellow", date(2026, 2, 12)), ("propose_red", date(2026, 2, 28))]
    assert tx.load(cases, ladder_id).state == "red_proposed"
    assert tx.verify(cases) == []

    with db.read() as conn:
        overdue = due_items(conn, end_of(2026, 12, 31), task_force="two_lakes", overdue_only=True)
        by_unit = Counter(i.unit for i in overdue)
        cards = scorecards(conn, "two_lakes", local(2026, 1, 1), local(2027, 1, 1))
        lead_counts = dict(open_past_due_by_unit(conn, "two_lakes", end_of(2026, 12, 31)))
        anshun = due_items(conn, end_of(2026, 12, 31), task_force="two_lakes", jurisdiction="as", overdue_only=True)
        ics = Calendar.from_ical(feed(conn, task_force="two_lakes"))
        unit_ics = Calendar.from_ical(feed(conn, task_force="two_lakes", unit="gy_sthjj"))
    # Past due at the end of the year: for the office, the first-half plenary and three quarters'
    # topical meetings and inspections and the first-half comprehensive enforcement (the last ones fall
    # due that very night); for 贵阳市生态环境局, three quarters' self-inspections, January–November
    # water data, the first-half risk report and three quarters' sector enforcement it organises.
    assert by_unit["two_lakes_office"] == 1 + 3 + 3 + 1
    # The fast by-unit count (lead unit kept on the case row) agrees with the detailed view.
    assert {u: n for u, n in lead_counts.items() if u} == dict(by_unit)
    # By jurisdiction: 安顺市 and the units below it (西秀区, 平坝区, 高新区), nothing else.
    assert {i.unit for i in anshun} == {u for u in by_unit if u.startswith("as_")}
    assert "as_pb_gov" in {i.unit for i in anshun}
    assert by_unit["gy_sthjj"] == 3 + 11 + 1 + 3
    assert cards["gy_sthjj"].cards["yellow"] >= 10 and cards["gy_sthjj"].on_time_rate == 0.0
    summaries = {str(e.get("summary")) for e in ics.walk("VEVENT")}
    meetings = {s for s in summaries if "联席会议" in s}
    assert meetings == {"2026年上半年联席会议全体会议", "2026年下半年联席会议全体会议"} | {
        f"2026年第{q}季度联席会议专题会议" for q in "一二三四"}
    unit_summaries = {str(e.get("summary")) for e in unit_ics.walk("VEVENT")}
    assert "2026年1月贵阳市生态环境局水质水量监测数据" in unit_summaries
    assert not any("联席会议" in s for s in unit_summaries)


@pytest.mark.parametrize("bad", [
    "cadences:\n  - {code: x, title: t, workflow: w, every: fortnight, owed_by: [a], role: r}\n",
    "cadences:\n  - {code: x, title: t, workflow: w, every: month, owed_by: a, role: r}\n",
])
def test_invalid_cadences_are_refused(tmp_path, bad):
    from engine.errors import DefinitionError

    path = tmp_path / "cadences.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DefinitionError):
        parse_cadences(path)
