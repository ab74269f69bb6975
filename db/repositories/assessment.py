"""Every SQL statement the assessment needs: per unit and workflow, deadlines met and late in a year,
cards received, work overdue now — each counted for all units in one grouped statement — and the
cases behind one unit's count (the drill-down)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, case, false, func, literal, or_, select

from db.models import Case, CaseHistory, CaseParty, Deadline, Definition

cases_t = Case.__table__
defs_t = Definition.__table__
parties_t = CaseParty.__table__
deadlines_t = Deadline.__table__
history_t = CaseHistory.__table__

# (definition id, event, card kind, party role the card counts against)
CardEvent = tuple[int, str, str, str]


def _outcome(since: datetime, until: datetime):
    """'met' or 'late' for a deadline whose outcome falls in [since, until), else NULL: met or late when
    it was stopped in the window, late when it expired (unstopped) with its due date in the window."""
    stopped = and_(deadlines_t.c.stopped_at >= since, deadlines_t.c.stopped_at < until)
    return case((and_(deadlines_t.c.status == "met", stopped), literal("met")),
                (and_(deadlines_t.c.status == "late", stopped), literal("late")),
                (and_(deadlines_t.c.status == "expired", deadlines_t.c.due_at >= since,
                      deadlines_t.c.due_at < until), literal("late")), else_=None)


def _deadlines(since: datetime, until: datetime, task_force: str):
    outcome = _outcome(since, until).label("outcome")
    joined = (deadlines_t.join(cases_t, cases_t.c.id == deadlines_t.c.case_id)
              .join(defs_t, defs_t.c.id == cases_t.c.definition_id)
              .join(parties_t, and_(parties_t.c.case_id == deadlines_t.c.case_id,
                                    parties_t.c.role == deadlines_t.c.owner_role)))
    # The window narrows on indexed dates first; the outcome then says which of the two it was.
    window = or_(and_(deadlines_t.c.stopped_at >= since, deadlines_t.c.stopped_at < until),
                 and_(deadlines_t.c.status == "expired", deadlines_t.c.due_at >= since, deadlines_t.c.due_at < until))
    return outcome, joined, [cases_t.c.task_force_code == task_force, window]


def deadline_counts(conn: Connection, task_force: str, since: datetime, until: datetime):
    """(unit, workflow, outcome, whether the deadline is assessed, how many) for every deadline a unit
    owed whose outcome fell in the window. One statement for every unit."""
    outcome, joined, cond = _deadlines(since, until, task_force)
    assessed = deadlines_t.c.rule["assessed"].as_string().label("assessed")
    # Grouped over a subquery: PostgreSQL does not see an expression with bound values in SELECT and
    # GROUP BY as the same one.
    each = (select(parties_t.c.unit_code.label("unit"), defs_t.c.name.label("workflow"), outcome, assessed)
            .select_from(joined).where(*cond).subquery())
    q = (select(each.c.unit, each.c.workflow, each.c.outcome, each.c.assessed, func.count())
         .where(each.c.outcome.is_not(None))
         .group_by(each.c.unit, each.c.workflow, each.c.outcome, each.c.assessed))
    return conn.execute(q).all()


def deadline_cases(conn: Connection, task_force: str, since: datetime, until: datetime, unit: str | None,
                   outcome: str, workflows: Sequence[str] | None, except_: Sequence[str]):
    """(unit, case id, number, title, when, assessed) of each deadline `unit` (None: any unit) owed with
    that outcome in the window."""
    out, joined, cond = _deadlines(since, until, task_force)
    when = func.coalesce(deadlines_t.c.stopped_at, deadlines_t.c.due_at)
    q = (select(parties_t.c.unit_code, cases_t.c.id, cases_t.c.number, cases_t.c.title, when,
                deadlines_t.c.rule["assessed"].as_string())
         .select_from(joined).where(*cond, out == outcome))
    if unit is not None:
        q = q.where(parties_t.c.unit_code == unit)
    if workflows is not None:
        q = q.where(defs_t.c.name.in_(list(workflows)))
    if except_:
        q = q.where(defs_t.c.name.not_in(list(except_)))
    return conn.execute(q.order_by(when, cases_t.c.id)).all()


def _cards(card_events: Sequence[CardEvent]):
    kind = case(*((and_(history_t.c.event == e, cases_t.c.definition_id == d, parties_t.c.role == r), literal(k))
                  for d, e, k, r in card_events), else_=None)
    marked = or_(*(and_(history_t.c.event == e, cases_t.c.definition_id == d, parties_t.c.role == r)
                   for d, e, k, r in card_events))
    joined = (history_t.join(cases_t, cases_t.c.id == history_t.c.case_id)
              .join(parties_t, parties_t.c.case_id == history_t.c.case_id))
    return kind, marked, joined


def card_counts(conn: Connection, task_force: str, since: datetime, until: datetime,
                card_events: Sequence[CardEvent]):
    """(unit, card kind, how many) for the events a definition marks as a card, in the window."""
    if not card_events:
        return []
    kind, marked, joined = _cards(card_events)
    each = (select(parties_t.c.unit_code.label("unit"), kind.label("kind")).select_from(joined)
            .where(cases_t.c.task_force_code == task_force, history_t.c.kind == "event", history_t.c.at >= since,
                   history_t.c.at < until, marked).subquery())
    return conn.execute(select(each.c.unit, each.c.kind, func.count()).group_by(each.c.unit, each.c.kind)).all()


def card_cases(conn: Connection, task_force: str, since: datetime, until: datetime,
               card_events: Sequence[CardEvent], unit: str | None, card_kind: str):
    """(unit, case id, number, title, when) of each card of `card_kind` `unit` (None: any) received in the
    window."""
    chosen = [c for c in card_events if c[2] == card_kind]
    if not chosen:
        return []
    _, marked, joined = _cards(chosen)
    q = (select(parties_t.c.unit_code, cases_t.c.id, cases_t.c.number, cases_t.c.title, history_t.c.at)
         .select_from(joined)
         .where(cases_t.c.task_force_code == task_force, history_t.c.kind == "event", history_t.c.at >= since,
                history_t.c.at < until, marked)
         .order_by(history_t.c.at, history_t.c.id))
    if unit is not None:
        q = q.where(parties_t.c.unit_code == unit)
    return conn.execute(q).all()


def card_event_specs(conn: Connection, task_force: str):
    """(definition id, spec) of every definition version of the task force."""
    return conn.execute(select(defs_t.c.id, defs_t.c.spec).where(defs_t.c.task_force_code == task_force)).all()


def _overdue(task_force: str, as_of: datetime):
    # `= false`, not `IS false`: PostgreSQL uses a btree index only for the former.
    return [cases_t.c.closed == false(), cases_t.c.task_force_code == task_force, cases_t.c.due_at < as_of]


def overdue_counts(conn: Connection, task_force: str, as_of: datetime):
    """(unit leading the due role, workflow, how many) of the open cases past due at `as_of` — the cases
    the overdue page counts, each once."""
    q = (select(cases_t.c.due_unit, defs_t.c.name, func.count())
         .select_from(cases_t.join(defs_t, defs_t.c.id == cases_t.c.definition_id))
         .where(*_overdue(task_force, as_of), cases_t.c.due_unit.is_not(None))
         .group_by(cases_t.c.due_unit, defs_t.c.name))
    return conn.execute(q).all()


def overdue_cases(conn: Connection, task_force: str, as_of: datetime, unit: str | None,
                  workflows: Sequence[str] | None, except_: Sequence[str]):
    """(unit, case id, number, title, due date) of `unit`'s (None: every unit's) open cases past due at
    `as_of`."""
    q = (select(cases_t.c.due_unit, cases_t.c.id, cases_t.c.number, cases_t.c.title, cases_t.c.due_at)
         .select_from(cases_t.join(defs_t, defs_t.c.id == cases_t.c.definition_id))
         .where(*_overdue(task_force, as_of), cases_t.c.due_unit.is_not(None)))
    if unit is not None:
        q = q.where(cases_t.c.due_unit == unit)
    if workflows is not None:
        q = q.where(defs_t.c.name.in_(list(workflows)))
    if except_:
        q = q.where(defs_t.c.name.not_in(list(except_)))
    return conn.execute(q.order_by(cases_t.c.due_at, cases_t.c.id)).all()
