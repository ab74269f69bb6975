"""Reading cases for people: the filtered, scoped, paged list and the full row of one case.

Scope is applied in SQL (a viewer's ReadScope), so paging and totals count only what it may see.
Full-text search: SQLite FTS5 trigram tables, PostgreSQL pg_trgm indexes (created by migration
api_0001). A trigram needs three characters; shorter words — most two-character Chinese words —
are matched with LIKE over the same text, which both backends answer by scanning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    any_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union,
)

from db.models import Case, CaseHistory, CaseLink, CaseParty, CaseShare, Definition, Jurisdiction, Unit

cases = Case.__table__
parties = CaseParty.__table__
shares = CaseShare.__table__
history = CaseHistory.__table__
links = CaseLink.__table__
definitions = Definition.__table__
jurisdictions = Jurisdiction.__table__
units = Unit.__table__

SORTS = {
    "updated_at": cases.c.updated_at, "created_at": cases.c.created_at, "due_at": cases.c.due_at,
    "number": cases.c.number, "state": cases.c.state, "title": cases.c.title,
}


@dataclass(frozen=True, slots=True)
class Scope:
    """What the viewer may read: parties of its unit, or whole (parts of) its task force."""

    unit: str | None
    task_force: str
    whole_task_force: bool
    definition_ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class CaseFilter:
    workflow: str | None = None
    state: str | None = None
    unit: str | None = None
    jurisdiction: str | None = None
    closed: bool | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    due_from: datetime | None = None
    # With a due range: also the cases whose data holds this key (a meeting's own time), whatever their due date.
    or_holding: str | None = None
    my_role: str | None = None  # only cases where the viewer's unit holds this party role
    q: str | None = None
    sort: str = "-updated_at"
    limit: int | None = 50  # None: every match (lists that must show all of them)
    offset: int = 0


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """Every column of a case a reader is shown, with its workflow's name and version."""

    id: int
    number: str
    task_force_code: str
    definition_id: int
    workflow: str
    workflow_version: int
    state: str
    version: int
    closed: bool
    title: str
    description: str
    data: dict[str, Any]
    parties: dict[str, list[str]]
    head_hash: str
    created_at: datetime
    updated_at: datetime
    state_entered_at: datetime
    due_at: datetime | None
    due_role: str | None = None  # the party role that owes the current due date


_COLS = (cases.c.id, cases.c.number, cases.c.task_force_code, cases.c.definition_id, definitions.c.name,
         definitions.c.version, cases.c.state, cases.c.version, cases.c.closed, cases.c.title, cases.c.description,
         cases.c.data, cases.c.parties, cases.c.head_hash, cases.c.created_at, cases.c.updated_at,
         cases.c.state_entered_at, cases.c.due_at, cases.c.due_role)
_FROM = cases.join(definitions, definitions.c.id == cases.c.definition_id)


# Built once: read after every event to answer the request.
_RECORD = select(*_COLS).select_from(_FROM).where(cases.c.id == bindparam("b_id"))


def record(conn: Connection, case_id: int) -> CaseRecord | None:
    row = conn.execute(_RECORD, {"b_id": case_id}).first()
    return CaseRecord(*row) if row else None


def _party(unit_clause: ColumnElement[bool], postgres: bool = False) -> ColumnElement[bool]:
    # IN, not a correlated EXISTS: the unit's party rows drive the look-up through their index instead
    # of one probe per case (a unit filter at 100k cases: 0.2 s → a few ms on SQLite). PostgreSQL
    # misjudges that semi-join and probes per case; = ANY(ARRAY(…)) reads the ids once and looks the
    # cases up by key (0.06 s → a few ms).
    ids = select(parties.c.case_id).where(unit_clause)
    if postgres:
        return cases.c.id == any_(func.array(ids.scalar_subquery()))
    return cases.c.id.in_(ids)


def scope_clause(scope: Scope) -> ColumnElement[bool]:
    # A unit reads the cases it is a party to and those shared with it (抄送).
    own = [select(parties.c.case_id).where(parties.c.unit_code == scope.unit),
           select(shares.c.case_id).where(shares.c.unit_code == scope.unit)] if scope.unit else []
    in_tf = cases.c.task_force_code == scope.task_force
    if scope.whole_task_force:
        return or_(cases.c.id.in_(union(*own)), in_tf) if own else in_tf
    if scope.definition_ids:
        # One id set, each part read through its own index (an OR of an IN and a range made SQLite
        # scan every case: a member's case list at 100k cases took 0.3 s).
        own.append(select(cases.c.id).where(in_tf, cases.c.definition_id.in_(sorted(scope.definition_ids))))
    return cases.c.id.in_(union(*own)) if own else false()


def _subtree(code: str):
    tree = select(jurisdictions.c.code).where(jurisdictions.c.code == code).cte("jtree", recursive=True)
    return tree.union_all(select(jurisdictions.c.code).where(jurisdictions.c.parent_code == tree.c.code))


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _text_match(conn: Connection, term: str, n: int) -> ColumnElement[bool]:
    """Cases whose text contains `term`; `n` keeps each term's bound parameter apart."""
    p = f"q{n}"
    if conn.dialect.name == "sqlite":
        if len(term) >= 3:
            phrase = '"' + term.replace('"', '""') + '"'
            hits = union(
                select(literal_column("rowid")).select_from(text("case_search_fts"))
                .where(text(f"case_search_fts MATCH :{p}").bindparams(**{p: phrase})),
                select(literal_column("case_id")).select_from(text("history_search_fts"))
                .where(text(f"history_search_fts MATCH :{p}").bindparams(**{p: phrase})),
            )
        else:
            pattern = _like(term)
            hits = union(
                select(literal_column("rowid")).select_from(text("case_search_fts")).where(text(
                    f"title LIKE :{p} ESCAPE '\\' OR description LIKE :{p} ESCAPE '\\' OR body LIKE :{p} ESCAPE '\\'"
                ).bindparams(**{p: pattern})),
                select(literal_column("case_id")).select_from(text("history_search_fts"))
                .where(text(f"body LIKE :{p} ESCAPE '\\'").bindparams(**{p: pattern})),
            )
        return cases.c.id.in_(hits)
    # The exact expressions of the pg_trgm indexes, so the planner can use them.
    pattern = _like(term)
    own = literal_column("(cases.title || ' ' || cases.description || ' ' || gz_json_text(cases.data))")
    in_history = text("SELECT case_history.case_id FROM case_history WHERE gz_json_text(case_history.payload) "
                      f"ILIKE :{p}").bindparams(**{p: pattern}).columns(case_id=cases.c.id.type)
    # One id set, each side read through its own trigram index (an OR of the two made PostgreSQL
    # compute the case text of every row: 0.33 s at 100k cases).
    own_hits = select(cases.c.id).where(own.ilike(pattern))
    return cases.c.id.in_(union(own_hits, select(in_history.subquery().c.case_id)))


def _where(conn: Connection, scope: Scope, f: CaseFilter, now: datetime) -> list[ColumnElement[bool]]:
    where = [scope_clause(scope)]
    pg = conn.dialect.name == "postgresql"
    if f.workflow:
        where.append(definitions.c.name == f.workflow)
    if f.state:
        where.append(cases.c.state == f.state)
    if f.unit:
        where.append(_party(parties.c.unit_code == f.unit, pg))
    if f.jurisdiction:
        tree = _subtree(f.jurisdiction)
        where.append(_party(parties.c.unit_code.in_(
            select(units.c.code).where(units.c.jurisdiction_code.in_(select(tree.c.code)))), pg))
    if f.closed is not None:
        where.append(cases.c.closed.is_(f.closed))
    if f.overdue is not None:
        late = and_(cases.c.closed.is_(False), cases.c.due_at.is_not(None), cases.c.due_at < now)
        where.append(late if f.overdue else ~late)
    if f.due_before is not None or f.due_from is not None:
        due = [cases.c.due_at.is_not(None)]
        if f.due_before is not None:
            due.append(cases.c.due_at < f.due_before)
        if f.due_from is not None:
            due.append(cases.c.due_at >= f.due_from)
        where.append(or_(and_(*due), cases.c.data[f.or_holding].as_string().is_not(None)) if f.or_holding
                     else and_(*due))
    if f.my_role:
        where.append(_party(and_(parties.c.unit_code == scope.unit, parties.c.role == f.my_role), pg) if scope.unit
                     else false())
    for n, term in enumerate((f.q or "").split()[:8]):
        where.append(_text_match(conn, term, n))
    return where


def search(conn: Connection, scope: Scope, f: CaseFilter, now: datetime) -> tuple[list[CaseRecord], int]:
    """One page of the cases the scope may read that match the filter, and how many match in all."""
    where = _where(conn, scope, f, now)
    total = conn.execute(select(func.count()).select_from(_FROM).where(*where)).scalar_one()
    key = f.sort.lstrip("-")
    column = SORTS[key]
    order = column.desc() if f.sort.startswith("-") else column.asc()
    if key == "due_at":
        order = order.nulls_last()
    tiebreak = cases.c.id.desc() if f.sort.startswith("-") else cases.c.id.asc()
    stmt = select(*_COLS).select_from(_FROM).where(*where).order_by(order, tiebreak).limit(f.limit).offset(f.offset)
    return [CaseRecord(*r) for r in conn.execute(stmt)], total


def actionable(conn: Connection, *, unit: str | None, task_force: str, party: list[tuple[int, str, str]],
               org: list[tuple[int, str]], owing: list[tuple[int, str]] = ()) -> list[CaseRecord]:
    """Open cases whose (definition, state, party role my unit holds) is in `party`, or whose
    (definition, state) is in `org` within my task force, or in `owing` with my unit holding the role
    that owes the case's due date; soonest due first, undated last.

    Each part starts from an index — my unit's party rows, or the task force's states — and the
    parts are united by id, so the statement reads the unit's few thousand rows, not every open case
    (a correlated EXISTS per open case cost 0.4 s at 100k cases on SQLite)."""
    mine = cases.join(parties, parties.c.case_id == cases.c.id)
    parts = []
    if unit and party:
        parts.append(select(cases.c.id).select_from(mine).where(
            parties.c.unit_code == unit, ~cases.c.closed,
            tuple_(cases.c.definition_id, cases.c.state, parties.c.role).in_(party)))
    if unit and owing:
        parts.append(select(cases.c.id).select_from(mine).where(
            parties.c.unit_code == unit, parties.c.role == cases.c.due_role, ~cases.c.closed,
            tuple_(cases.c.definition_id, cases.c.state).in_(list(owing))))
    if org:
        # The plain state list lets the (task force, state) index narrow the rows before the pairs are matched.
        parts.append(select(cases.c.id).where(cases.c.task_force_code == task_force,
                                              cases.c.state.in_(sorted({s for _d, s in org})), ~cases.c.closed,
                                              tuple_(cases.c.definition_id, cases.c.state).in_(org)))
    if not parts:
        return []
    ids = union(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    stmt = (select(*_COLS).select_from(_FROM).where(cases.c.id.in_(select(ids.c.id)))
            .order_by(cases.c.due_at.asc().nulls_last(), cases.c.id))
    return [CaseRecord(*r) for r in conn.execute(stmt)]


def linked_open_states(conn: Connection, case_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """Case id → (definition id, state) of each open case linked to it from either end (one statement)."""
    if not case_ids:
        return {}
    other = cases.alias("other")
    out: dict[int, list[tuple[int, str]]] = {c: [] for c in case_ids}
    for mine, theirs in ((links.c.from_case_id, links.c.to_case_id), (links.c.to_case_id, links.c.from_case_id)):
        stmt = (select(mine, other.c.definition_id, other.c.state)
                .select_from(links.join(other, other.c.id == theirs))
                .where(mine.in_(case_ids), ~other.c.closed))
        for case_id, definition_id, state in conn.execute(stmt):
            out[case_id].append((definition_id, state))
    return out


def latest_history_at(conn: Connection, case_ids: list[int]) -> dict[int, datetime]:
    """Case id → the time of its latest history row, for the given cases (one statement)."""
    if not case_ids:
        return {}
    stmt = (select(history.c.case_id, func.max(history.c.at)).where(history.c.case_id.in_(case_ids))
            .group_by(history.c.case_id))
    return dict(conn.execute(stmt).all())
