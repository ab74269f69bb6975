"""iCalendar (RFC 5545) feeds: meetings and deadlines for a unit or a whole task force.

A meeting's time is written in Beijing time with ``TZID=Asia/Shanghai``, and the feed carries that zone's
VTIMEZONE (RFC 5545 §3.2.19 requires one per TZID used), so a calendar application on any machine shows
09:30 for a 09:30 meeting. A deadline is an all-day event on its Beijing due day.
"""

from __future__ import annotations

from datetime import date, timedelta

from icalendar import Calendar, Event
from sqlalchemy import Connection, and_, false, select

from db.models import Case, CaseParty, Definition
from engine.deadlines import provisional_dues
from engine.localtime import local_date, moment_of, to_local

# The VTIMEZONE's rules cover these years; before 1992 Asia/Shanghai kept summer time, which no case needs.
_ZONE_FROM, _ZONE_UNTIL = date(2000, 1, 1), date(2100, 1, 1)


def feed(conn: Connection, *, task_force: str, unit: str | None = None, name: str = "共治") -> bytes:
    """Open cases with a due date (and meetings with their set time), as one calendar. A provisional due
    date (its year's holiday schedule not yet published) says so in the summary and why in the description."""
    c, p, d = Case.__table__, CaseParty.__table__, Definition.__table__
    stmt = (select(c.c.id, c.c.number, c.c.title, c.c.due_at, c.c.data, c.c.state, d.c.name)
            .select_from(c.join(d, d.c.id == c.c.definition_id))
            .where(c.c.task_force_code == task_force, c.c.closed == false(), c.c.due_at.is_not(None)))
    if unit:
        stmt = stmt.where(c.c.id.in_(select(p.c.case_id).where(and_(p.c.unit_code == unit))))
    cal = Calendar()
    cal.add("prodid", "-//gongzhi//共治//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    rows = conn.execute(stmt.order_by(c.c.due_at)).all()
    provisional = provisional_dues(conn, [r[0] for r in rows])
    for case_id, number, title, due_at, data, state, workflow in rows:
        ev = Event()
        meeting_at = (data or {}).get("meeting_at")
        reason = None if meeting_at else provisional.get(case_id)  # a meeting's set time is not computed
        ev.add("uid", f"case-{case_id}@gongzhi")
        ev.add("summary", f"{title}（暂定）" if reason else title)
        ev.add("description", f"{number}（{workflow}，{state}）" + (f"\n{reason}" if reason else ""))
        ev.add("dtstamp", due_at)
        if meeting_at:
            start = to_local(moment_of(meeting_at))
            ev.add("dtstart", start)
            ev.add("dtend", start + timedelta(hours=2))
            ev.add("categories", ["会议"])
        else:
            day = local_date(due_at)
            ev.add("dtstart", day)
            ev.add("dtend", day + timedelta(days=1))
            ev.add("categories", ["期限"])
        cal.add_component(ev)
    cal.add_missing_timezones(first_date=_ZONE_FROM, last_date=_ZONE_UNTIL)
    return cal.to_ical()
