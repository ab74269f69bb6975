"""Recurring duties declared as data per task force (`cadences.yaml`), materialised as cases.

Each (cadence, period, owing unit) becomes exactly one case; running the scheduler twice over the
same dates creates nothing new. A duty's case carries its due date, so a period that ends with its
duty undone is overdue work like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr
from sqlalchemy import Connection, select

from db.models import TaskForceUnit, Unit
from db.repositories import background as trepo_bg
from db.repositories import time as trepo
from engine import schema
from engine.calendar import WorkCalendar
from engine.cases import SYSTEM, Cases
from engine.errors import DefinitionError
from engine.loader import NAME_RE, parse_yaml
from engine.localtime import at_local, local_date
from engine.periods import period_code, period_title

EVERY = ("month", "quarter", "half_year", "year")


@dataclass(frozen=True)
class Period:
    key: str
    title: str
    start: date
    end: date  # last day, inclusive


@dataclass(frozen=True)
class Cadence:
    code: str
    title: str
    workflow: str
    every: str  # month | quarter | half_year | year | rrule
    rrule: str | None
    owed_by: tuple[str, ...] | None  # unit codes, or None with a filter
    owed_filter: dict[str, Any]
    role: str
    due: dict[str, Any]
    payload: dict[str, Any]
    parties: dict[str, list[str]]
    active_from: date | None = None  # a campaign's cadence: only periods starting on or after this day
    active_until: date | None = None  # ... and on or before this one

    def active(self, period: Period) -> bool:
        return not ((self.active_from and period.start < self.active_from)
                    or (self.active_until and period.start > self.active_until))


def parse_cadences(path: Path) -> list[Cadence]:
    if not path.is_file():
        return []
    source = str(path)
    doc = parse_yaml(path.read_text(encoding="utf-8"), source)
    schema.refuse("cadences", doc, source)
    out, seen = [], set()
    for c in (doc or {}).get("cadences") or []:
        def fail(problem: str, node=c):
            raise DefinitionError(source, getattr(node, "line", None), problem)

        code = c.get("code")
        if not isinstance(code, str) or not NAME_RE.match(code) or code in seen:
            fail(f"cadence code {code!r} missing, malformed or repeated")
        seen.add(code)
        every = c.get("every")
        rrule = None
        if isinstance(every, dict) and "rrule" in every:
            rrule, every = str(every["rrule"]), "rrule"
        elif every not in EVERY:
            fail(f"cadence {code!r}: every must be one of {', '.join(EVERY)} or {{rrule: ...}}")
        owed = c.get("owed_by")
        if isinstance(owed, list):
            owed_by, owed_filter = tuple(owed), {}
        elif isinstance(owed, dict):
            owed_by, owed_filter = None, dict(owed)
        else:
            fail(f"cadence {code!r}: owed_by is a list of unit codes or a filter mapping")
        due = dict(c.get("due") or {"at_period_end": True})
        if not ({"at_period_end", "day_of_month", "after_period_end"} & set(due)):
            fail(f"cadence {code!r}: due needs at_period_end, day_of_month or after_period_end")
        for key in ("workflow", "role", "title"):
            if not c.get(key):
                fail(f"cadence {code!r} is missing {key!r}")
        window = []
        for key in ("from", "until"):
            value = c.get(key)
            if value is not None and not isinstance(value, date):
                try:
                    value = date.fromisoformat(str(value))
                except ValueError:
                    fail(f"cadence {code!r}: {key} must be a date like 2018-05-01")
            window.append(value)
        out.append(Cadence(code, c["title"], c["workflow"], every, rrule, owed_by, owed_filter, c["role"], due,
                           dict(c.get("payload") or {}), {k: list(v) for k, v in (c.get("parties") or {}).items()},
                           *window))
    return out


def periods(cadence: Cadence, first: date, last: date) -> Iterator[Period]:
    """Periods of the cadence that start within [first, last]."""
    if cadence.every == "rrule":
        rule = rrulestr(cadence.rrule, dtstart=datetime.combine(first.replace(month=1, day=1), time()))
        starts = [d.date() for d in rule.between(datetime.combine(first, time()) - timedelta(seconds=1),
                                                 datetime.combine(last + timedelta(days=400), time()), inc=True)]
        for a, b in zip(starts, starts[1:], strict=False):
            if first <= a <= last:
                yield _period("rrule", a, b - timedelta(days=1))
        return
    months = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}[cadence.every]
    d = date(first.year, 1, 1)
    while d <= last:
        end = d + relativedelta(months=months) - timedelta(days=1)
        if d >= first:
            yield _period(cadence.every, d, end)
        d = end + timedelta(days=1)


def _period(every: str, start: date, end: date) -> Period:
    code = period_code(every, start)
    return Period(code, period_title(code), start, end)


def due_day(cadence: Cadence, period: Period, calendar: WorkCalendar) -> date:
    due = cadence.due
    if "day_of_month" in due:
        last_month = period.end.replace(day=1)
        return last_month.replace(day=min(int(due["day_of_month"]), period.end.day))
    if "after_period_end" in due:
        rule = due["after_period_end"]
        return local_date(calendar.add(at_local(period.end, time(12)), int(rule["amount"]), rule["unit"]).at)
    return period.end


def owing_units(conn: Connection, task_force: str, cadence: Cadence) -> list[str]:
    if cadence.owed_by is not None:
        return list(cadence.owed_by)
    f = cadence.owed_filter
    stmt = select(Unit.code).join(TaskForceUnit, TaskForceUnit.unit_code == Unit.code).where(
        TaskForceUnit.task_force_code == task_force)
    if f.get("member", True):
        stmt = stmt.where(TaskForceUnit.member)
    if f.get("kinds"):
        stmt = stmt.where(Unit.kind.in_(f["kinds"]))
    if f.get("exclude"):
        stmt = stmt.where(Unit.code.not_in(f["exclude"]))
    return list(conn.execute(stmt.order_by(Unit.code)).scalars())


def materialise(cases: Cases, task_force: str, cadences: list[Cadence], first: date, last: date, *,
                covering: date | None = None) -> int:
    """Create the duty cases of every period starting within [first, last] (with `covering`, only the
    periods that have not ended by that day); returns how many were new. Each cadence is its own
    transaction: a cadence that fails leaves what the others made."""
    created = 0
    for cadence in cadences:
        with cases.db.write() as conn:
            # Two worker processes never materialise the same cadence at once (a no-op on SQLite).
            trepo_bg.serialize(conn, f"cadence:{task_force}:{cadence.code}")
            created += _materialise_cadence(conn, cases, task_force, cadence, first, last, covering)
    return created


def _materialise_cadence(conn: Connection, cases: Cases, task_force: str, cadence: Cadence, first: date,
                         last: date, covering: date | None) -> int:
    created = 0
    units = owing_units(conn, task_force, cadence)
    for period in periods(cadence, first, last):
        if not cadence.active(period) or (covering is not None and period.end < covering):
            continue
        for unit in units:
            if trepo.run_exists(conn, task_force, cadence.code, period.key, unit):
                continue
            due = due_day(cadence, period, cases.deadlines.calendar)
            title = cadence.title.format(period=period.title, unit=_unit_name(conn, unit))
            parties = {cadence.role: [unit], **cadence.parties}
            case = cases.start(conn, task_force=task_force, workflow=cadence.workflow, actor=SYSTEM,
                               title=title, parties=parties,
                               payload={**cadence.payload, "period": period.key, "due": due.isoformat()})
            trepo.record_run(conn, task_force, cadence.code, period.key, unit, case.id)
            created += 1
    return created


def _unit_name(conn: Connection, code: str) -> str:
    return conn.execute(select(Unit.short_name).where(Unit.code == code)).scalar_one_or_none() or code


def local_midnight(day: date) -> datetime:
    return at_local(day, time(0, 5))
