"""Views of time: what is due or overdue as of a date, and each unit's record for the assessment."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, false, select

from db.models import Case, CaseHistory, CaseParty, Definition, Jurisdiction, Unit
from db.repositories import time as trepo
from engine.assessment import tallies
from engine.localtime import start_of_local_day, to_local


@dataclass(frozen=True)
class DueItem:
    case_id: int
    number: str
    title: str
    workflow: str
    state: str
    unit: str
    due_at: datetime
    overdue: bool


def due_items(conn: Connection, as_of: datetime, *, task_force: str | None = None, unit: str | None = None,
              jurisdiction: str | None = None, overdue_only: bool = False) -> list[DueItem]:
    """Open cases due by `as_of` (or only those past due), with the unit that owes them."""
    c, p, d = Case.__table__, CaseParty.__table__, Definition.__table__
    stmt = (select(c.c.id, c.c.number, c.c.title, d.c.name, c.c.state, p.c.unit_code, c.c.due_at)
            .select_from(c.join(p, and_(p.c.case_id == c.c.id, p.c.role == c.c.due_role))
                         .join(d, d.c.id == c.c.definition_id))
            .where(c.c.closed == false(), c.c.due_at.is_not(None)))
    stmt = stmt.where(c.c.due_at < as_of) if overdue_only else stmt.where(c.c.due_at <= as_of)
    if task_force:
        stmt = stmt.where(c.c.task_force_code == task_force)
    if unit:
        stmt = stmt.where(p.c.unit_code == unit)
    if jurisdiction:
        stmt = stmt.where(p.c.unit_code.in_(units_under(conn, jurisdiction)))
    rows = conn.execute(stmt.order_by(c.c.due_at, c.c.id)).all()
    return [DueItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[6] < as_of) for r in rows]


def units_under(conn: Connection, jurisdiction: str) -> list[str]:
    """Units whose jurisdiction is `jurisdiction` or lies below it."""
    j = Jurisdiction.__table__
    tree: dict[str | None, list[str]] = defaultdict(list)
    for code, parent in conn.execute(select(j.c.code, j.c.parent_code)):
        tree[parent].append(code)
    codes, todo = set(), [jurisdiction]
    while todo:
        here = todo.pop()
        codes.add(here)
        todo.extend(tree.get(here, []))
    return list(conn.execute(select(Unit.code).where(Unit.jurisdiction_code.in_(codes))).scalars())


@dataclass
class Scorecard:
    unit: str
    deadlines_met: int = 0
    deadlines_late: int = 0
    open_overdue: int = 0
    cards: Counter = field(default_factory=Counter)

    @property
    def on_time_rate(self) -> float | None:
        done = self.deadlines_met + self.deadlines_late
        return self.deadlines_met / done if done else None


def scorecards(conn: Connection, task_force: str, since: datetime, until: datetime,
               as_of: datetime | None = None) -> dict[str, Scorecard]:
    """Per unit: deadlines met and missed in [since, until), cards received, and open work overdue at
    `as_of` (now; at `until` when that is earlier — the year's work still open) — engine/assessment.py."""
    found = tallies(conn, task_force, since, until, min(as_of or until, until))
    return {u: Scorecard(u, sum(t.met.values()), sum(t.late.values()), sum(t.overdue.values()), Counter(t.cards))
            for u, t in found.items()}


def links(conn: Connection, case_id: int) -> list[tuple[str, str, int, str]]:
    """(direction, kind, other case id, other number) for every link of a case, from either end."""
    return trepo.links_with_numbers(conn, case_id)


@dataclass(frozen=True)
class Tally:
    total: int
    done: int
    in_progress: int


def tally(conn: Connection, task_force: str, workflow: str, *, done_states: tuple[str, ...] = (),
          where: dict[str, Any] | None = None) -> Tally:
    """How many cases of a workflow there are, how many are done (closed, or in one of `done_states`) and
    how many still in progress — counted from the cases, e.g. “自查上报的9个问题，已整改完成5个，4个正在推进”.
    `where` keeps the cases whose data has those values."""
    c, d = Case.__table__, Definition.__table__
    rows = conn.execute(select(c.c.state, c.c.closed, c.c.data).select_from(c.join(d, d.c.id == c.c.definition_id))
                        .where(c.c.task_force_code == task_force, d.c.name == workflow)).all()
    kept = [r for r in rows if all((r.data or {}).get(k) == v for k, v in (where or {}).items())]
    done = sum(1 for r in kept if r.closed or r.state in done_states)
    return Tally(len(kept), done, len(kept) - done)


def in_states(conn: Connection, task_force: str, workflow: str, states: tuple[str, ...]) -> list[tuple[str, str]]:
    """(number, title) of the cases of a workflow now in one of `states`, e.g. a list to publish."""
    c, d = Case.__table__, Definition.__table__
    return [(r[0], r[1]) for r in conn.execute(
        select(c.c.number, c.c.title).select_from(c.join(d, d.c.id == c.c.definition_id))
        .where(c.c.task_force_code == task_force, d.c.name == workflow, c.c.state.in_(states))
        .order_by(c.c.number))]


def entries_by_month(conn: Connection, task_force: str, workflow: str, year: int) -> dict[int, Counter]:
    """Month (1-12, Beijing time) → how many cases of `workflow` were opened ("created") and entered each state.

    Counts only, so it may be published: no titles, units or payloads leave this function.
    """
    c, d, h = Case.__table__, Definition.__table__, CaseHistory.__table__
    since, until = start_of_local_day(date(year, 1, 1)), start_of_local_day(date(year + 1, 1, 1))
    rows = conn.execute(
        select(h.c.kind, h.c.to_state, h.c.at)
        .select_from(h.join(c, c.c.id == h.c.case_id).join(d, d.c.id == c.c.definition_id))
        .where(c.c.task_force_code == task_force, d.c.name == workflow, h.c.at >= since, h.c.at < until,
               h.c.kind.in_(("create", "event"))))
    months: dict[int, Counter] = defaultdict(Counter)
    for kind, to_state, at in rows:
        month = to_local(at).month
        months[month]["created" if kind == "create" else to_state] += 1
    return dict(months)
