"""Statements about deadlines, timers, links and cadence runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, delete, false, func, insert, or_, select, update

from db.models import CadenceRun, Case, CaseLink, CaseParty, Deadline, Setting, Timer, Unit

deadlines_t = Deadline.__table__
timers_t = Timer.__table__
links_t = CaseLink.__table__
runs_t = CadenceRun.__table__
settings_t = Setting.__table__
cases_t = Case.__table__
units_t = Unit.__table__
parties_t = CaseParty.__table__


# --- deadlines ----------------------------------------------------------------------------------

_READ_AHEAD = "gongzhi.deadlines_read_ahead"


@contextmanager
def deadlines_read_ahead(conn: Connection, case_ids: list[int]) -> Iterator[None]:
    """Read the deadline rows of these cases in one statement; inside the block `get_deadline` answers
    from them. For a page judging the guards of many cases on a read-only connection (no N+1)."""
    rows = conn.execute(select(deadlines_t).where(deadlines_t.c.case_id.in_(case_ids))).all() if case_ids else []
    conn.info[_READ_AHEAD] = (frozenset(case_ids), {(r.case_id, r.name): r for r in rows})
    try:
        yield
    finally:
        conn.info.pop(_READ_AHEAD, None)


def get_deadline(conn: Connection, case_id: int, name: str):
    ahead = conn.info.get(_READ_AHEAD)
    if ahead is not None and case_id in ahead[0]:
        return ahead[1].get((case_id, name))
    return conn.execute(select(deadlines_t).where(deadlines_t.c.case_id == case_id,
                                                  deadlines_t.c.name == name)).first()


def put_deadline(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(delete(deadlines_t).where(deadlines_t.c.case_id == row["case_id"],
                                           deadlines_t.c.name == row["name"]))
    conn.execute(insert(deadlines_t), row)


def set_deadline(conn: Connection, case_id: int, name: str, **values: Any) -> None:
    conn.execute(update(deadlines_t).where(deadlines_t.c.case_id == case_id, deadlines_t.c.name == name)
                 .values(**values))


def deadlines_of(conn: Connection, case_id: int):
    return conn.execute(select(deadlines_t).where(deadlines_t.c.case_id == case_id)
                        .order_by(deadlines_t.c.due_at)).all()


def provisional_deadlines(conn: Connection):
    return conn.execute(select(deadlines_t).where(deadlines_t.c.provisional,
                                                  deadlines_t.c.status.in_(("running", "paused")))).all()


def provisional_case_dues(conn: Connection, case_ids: list[int]) -> list[tuple[int, dict[str, Any], datetime]]:
    """(case id, rule, due) of the given cases whose current due date comes from a provisional deadline."""
    if not case_ids:
        return []
    stmt = (select(deadlines_t.c.case_id, deadlines_t.c.rule, deadlines_t.c.due_at)
            .join(cases_t, and_(cases_t.c.id == deadlines_t.c.case_id, cases_t.c.due_at == deadlines_t.c.due_at))
            .where(deadlines_t.c.provisional, deadlines_t.c.status.in_(("running", "paused", "expired")),
                   deadlines_t.c.case_id.in_(case_ids)))
    return [(r[0], r[1], r[2]) for r in conn.execute(stmt)]


# --- timers -------------------------------------------------------------------------------------

def arm(conn: Connection, case_id: int, deadline: str | None, action: str, due_at: datetime, now: datetime) -> None:
    conn.execute(insert(timers_t), {"case_id": case_id, "deadline": deadline, "action": action, "due_at": due_at,
                                    "status": "pending", "created_at": now})


def disarm(conn: Connection, case_id: int, deadline: str, note: str) -> None:
    conn.execute(update(timers_t).where(timers_t.c.case_id == case_id, timers_t.c.deadline == deadline,
                                        timers_t.c.status == "pending").values(status="cancelled", note=note))


def claim_due(conn: Connection, now: datetime, limit: int):
    """Due pending timers, oldest first; on PostgreSQL rows another worker holds are skipped."""
    stmt = (select(timers_t).where(timers_t.c.status == "pending", timers_t.c.due_at <= now,
                                   or_(timers_t.c.not_before.is_(None), timers_t.c.not_before <= now))
            .order_by(timers_t.c.due_at, timers_t.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return conn.execute(stmt).all()


def finish_timer(conn: Connection, timer_id: int, status: str, now: datetime, note: str | None = None) -> bool:
    """Mark a pending timer done; False when someone else already did (never fire twice)."""
    return conn.execute(update(timers_t).where(timers_t.c.id == timer_id, timers_t.c.status == "pending")
                        .values(status=status, fired_at=now, note=note)).rowcount == 1


def retry_timer(conn: Connection, timer_id: int, now: datetime, error: str, *, backoff, max_attempts: int) -> int:
    """A timer whose processing failed: tried again after a doubling delay, then kept as failed."""
    attempts = (conn.execute(select(timers_t.c.attempts).where(timers_t.c.id == timer_id)).scalar() or 0) + 1
    values: dict[str, Any] = {"attempts": attempts, "note": error[:4000], "not_before": now + backoff * 2 ** (attempts - 1)}
    if attempts >= max_attempts:
        values["status"] = "failed"
    conn.execute(update(timers_t).where(timers_t.c.id == timer_id).values(**values))
    return attempts


def oldest_due(conn: Connection, now: datetime) -> datetime | None:
    """The due time of the oldest pending timer that should have fired by now."""
    return conn.execute(select(func.min(timers_t.c.due_at)).where(timers_t.c.status == "pending",
                                                                  timers_t.c.due_at <= now)).scalar()


def mark_dropped(conn: Connection, timer_id: int, note: str) -> None:
    conn.execute(update(timers_t).where(timers_t.c.id == timer_id).values(status="dropped", note=note))


def next_timer_at(conn: Connection) -> datetime | None:
    return conn.execute(select(func.min(timers_t.c.due_at)).where(timers_t.c.status == "pending")).scalar()


# --- links --------------------------------------------------------------------------------------

def link(conn: Connection, from_case: int, to_case: int, kind: str, now: datetime, deadline: str | None = None) -> None:
    conn.execute(insert(links_t), {"from_case_id": from_case, "to_case_id": to_case, "kind": kind,
                                   "deadline": deadline, "created_at": now})


def links_of(conn: Connection, case_id: int):
    return conn.execute(select(links_t).where(or_(links_t.c.from_case_id == case_id, links_t.c.to_case_id == case_id))
                        .order_by(links_t.c.id)).all()


def links_with_numbers(conn: Connection, case_id: int) -> list[tuple[str, str, int, str]]:
    """(direction, kind, other case id, other case's number) for every link of a case, from either end,
    in the order they were made — one statement, the other case's number joined in."""
    other = cases_t.alias("other")
    outgoing = links_t.c.from_case_id == case_id
    stmt = (select(outgoing, links_t.c.kind, other.c.id, other.c.number)
            .join(other, other.c.id == case((outgoing, links_t.c.to_case_id), else_=links_t.c.from_case_id))
            .where(or_(outgoing, links_t.c.to_case_id == case_id)).order_by(links_t.c.id))
    return [("to" if out else "from", kind, other_id, number) for out, kind, other_id, number in conn.execute(stmt)]


def open_linked(conn: Connection, from_case: int, kind: str, deadline: str) -> list[int]:
    return list(conn.execute(
        select(links_t.c.to_case_id).join(cases_t, cases_t.c.id == links_t.c.to_case_id)
        .where(links_t.c.from_case_id == from_case, links_t.c.kind == kind, links_t.c.deadline == deadline,
               cases_t.c.closed == false())).scalars())


# --- cadence runs -------------------------------------------------------------------------------

def run_exists(conn: Connection, task_force: str, cadence: str, period: str, unit: str) -> bool:
    return conn.execute(select(runs_t.c.case_id).where(
        runs_t.c.task_force_code == task_force, runs_t.c.cadence == cadence, runs_t.c.period == period,
        runs_t.c.unit_code == unit)).first() is not None


def record_run(conn: Connection, task_force: str, cadence: str, period: str, unit: str, case_id: int) -> None:
    conn.execute(insert(runs_t), {"task_force_code": task_force, "cadence": cadence, "period": period,
                                  "unit_code": unit, "case_id": case_id})


# --- settings -----------------------------------------------------------------------------------

def get_setting(conn: Connection, key: str) -> dict[str, Any] | None:
    return conn.execute(select(settings_t.c.value).where(settings_t.c.key == key)).scalar()


def settings_like(conn: Connection, prefix: str) -> dict[str, dict[str, Any]]:
    """Every setting whose key starts with `prefix`, by key."""
    return dict(conn.execute(select(settings_t.c.key, settings_t.c.value)
                             .where(settings_t.c.key.startswith(prefix, autoescape=True))).all())


def put_setting(conn: Connection, key: str, value: dict[str, Any]) -> None:
    conn.execute(delete(settings_t).where(settings_t.c.key == key))
    conn.execute(insert(settings_t), {"key": key, "value": value})


# --- views --------------------------------------------------------------------------------------

def open_past_due_by_unit(conn: Connection, task_force: str, as_of: datetime) -> list[tuple[str | None, int]]:
    """(lead unit, case count) for a task force's open cases whose current due date passed before `as_of`;
    units with none are left out. Each case counts once, against the unit that leads its due role."""
    # `= false`, not `IS false`: PostgreSQL uses a btree index only for the former.
    cond = [cases_t.c.closed == false(), cases_t.c.task_force_code == task_force, cases_t.c.due_at < as_of]
    if conn.dialect.name != "sqlite":
        stmt = select(cases_t.c.due_unit, func.count()).where(*cond).group_by(cases_t.c.due_unit)
        return [(u, n) for u, n in conn.execute(stmt) if n]
    # SQLite: one index range per unit (ix_cases_open_due_unit: closed, task force, unit, due date) counts
    # only the overdue entries, where the GROUP BY walks every open one: ~4x faster at 100k cases. Every
    # due_unit is a unit's code (it is taken from the case's parties); cases with none are counted apart.
    per_unit = (select(func.count()).select_from(cases_t)
                .where(*cond, cases_t.c.due_unit == units_t.c.code).scalar_subquery())
    counted = [(u, n) for u, n in conn.execute(select(units_t.c.code, per_unit)) if n]
    unled = conn.execute(select(func.count()).select_from(cases_t)
                         .where(*cond, cases_t.c.due_unit.is_(None))).scalar_one()
    return counted + ([(None, unled)] if unled else [])


def linked_from(conn: Connection, from_case: int, kind: str):
    """(id, number, state, closed) of every case this one links to by `kind`."""
    return conn.execute(
        select(cases_t.c.id, cases_t.c.number, cases_t.c.state, cases_t.c.closed)
        .join(links_t, links_t.c.to_case_id == cases_t.c.id)
        .where(links_t.c.from_case_id == from_case, links_t.c.kind == kind).order_by(links_t.c.id)).all()
