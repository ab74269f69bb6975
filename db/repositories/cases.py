"""Every SQL statement about cases, built once (SQLAlchemy Core: the write path is hot)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from db.models import Case, CaseHistory, CaseParty, Definition

cases = Case.__table__
history = CaseHistory.__table__
parties_t = CaseParty.__table__


@dataclass(frozen=True, slots=True)
class CaseRow:
    id: int
    number: str
    task_force_code: str
    definition_id: int
    state: str
    version: int
    closed: bool
    title: str
    data: dict[str, Any]
    parties: dict[str, list[str]]
    head_hash: str
    due_at: datetime | None
    state_entered_at: datetime
    due_role: str | None = None
    # The time of the case's last history row: a new row may not be earlier.
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    case_id: int
    seq: int
    kind: str
    event: str
    from_state: str | None
    to_state: str
    actor_id: str
    actor_unit: str | None
    actor_role: str | None
    payload: dict[str, Any]
    at: datetime
    prev_hash: str
    hash: str


_CASE_COLS = (
    cases.c.id, cases.c.number, cases.c.task_force_code, cases.c.definition_id, cases.c.state,
    cases.c.version, cases.c.closed, cases.c.title, cases.c.data, cases.c.parties, cases.c.head_hash,
    cases.c.due_at, cases.c.state_entered_at, cases.c.due_role, cases.c.updated_at,
)
_SELECT_CASE = select(*_CASE_COLS).where(cases.c.id == bindparam("b_id"))
_SELECT_CASE_FOR_UPDATE = _SELECT_CASE.with_for_update()

_INSERT_HISTORY = insert(history)
_HISTORY_OF = (
    select(
        history.c.case_id, history.c.seq, history.c.kind, history.c.event, history.c.from_state,
        history.c.to_state, history.c.actor_id, history.c.actor_unit, history.c.actor_role,
        history.c.payload, history.c.at, history.c.prev_hash, history.c.hash,
    )
    .where(history.c.case_id == bindparam("b_id"))
    .order_by(history.c.seq)
)


def load(conn: Connection, case_id: int, *, lock: bool = False) -> CaseRow | None:
    stmt = _SELECT_CASE_FOR_UPDATE if lock and conn.dialect.name != "sqlite" else _SELECT_CASE
    row = conn.execute(stmt, {"b_id": case_id}).first()
    return CaseRow(*row) if row else None


def load_many(conn: Connection, case_ids: Iterable[int]) -> dict[int, CaseRow]:
    """id -> case for those of `case_ids` that exist, in one statement."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    return {row[0]: CaseRow(*row) for row in conn.execute(select(*_CASE_COLS).where(cases.c.id.in_(ids)))}


def insert_case(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(insert(cases).returning(cases.c.id), values).scalar_one()


class _DriverSQL:
    """The two statements of every event, sent straight to the DBAPI cursor.

    SQLAlchemy's per-statement execution costs more than SQLite's own work on this path (DESIGN.md:
    Core alone reaches ~0.35x raw); these two are fixed, so we render them once per dialect and
    convert the few values ourselves, exactly as the column types would.
    """

    def __init__(self, dialect: str) -> None:
        p = "?" if dialect == "sqlite" else "%s"
        jsonb = "" if dialect == "sqlite" else "::jsonb"
        self.sqlite = dialect == "sqlite"
        self.advance = (f"UPDATE cases SET state = {p}, version = {p}, head_hash = {p}, updated_at = {p}, "
                        f"state_entered_at = {p} WHERE id = {p} AND version = {p}")
        self.insert = (
            "INSERT INTO case_history (case_id, seq, kind, event, from_state, to_state, actor_id, actor_unit, "
            f"actor_role, payload, at, prev_hash, hash) VALUES ({', '.join([p] * 9)}, {p}{jsonb}, {p}, {p}, {p})"
        )

        # PostgreSQL: the version-checked move and the history row in one statement, one round trip;
        # the row is inserted only if the move matched (a stale version inserts nothing).
        self.advance_and_insert = (
            f"WITH moved AS ({self.advance} RETURNING id) "
            "INSERT INTO case_history (case_id, seq, kind, event, from_state, to_state, actor_id, actor_unit, "
            "actor_role, payload, at, prev_hash, hash) "
            "SELECT %s::bigint, %s::integer, %s::varchar, %s::varchar, %s::varchar, %s::varchar, %s::varchar, "
            "%s::varchar, %s::varchar, %s::jsonb, %s::timestamptz, %s::varchar, %s::varchar FROM moved"
        ) if not self.sqlite else ""

    def when(self, value: datetime) -> Any:
        if not self.sqlite:
            return value
        # The exact text SQLAlchemy's SQLite DATETIME writes, so ORM and Core reads agree.
        if value.utcoffset():
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")


_DRIVER = {"sqlite": _DriverSQL("sqlite"), "postgresql": _DriverSQL("postgresql")}


def _cursor(conn: Connection):
    """The DBAPI cursor the hot statements share, one per database connection: opening a cursor per
    statement costs more in Python than SQLite spends on the statement. `info` lives as long as the
    DBAPI connection (an invalidated connection takes its cursor with it), and a connection serves one
    thread at a time."""
    info = conn.connection.info
    cur = info.get("gz_cursor")
    if cur is None:
        cur = info["gz_cursor"] = conn.connection.dbapi_connection.cursor()
    return cur


def _move_params(sql: _DriverSQL, case_id: int, seen_version: int, values: dict[str, Any]) -> tuple:
    return (values["state"], values["version"], values["head_hash"], sql.when(values["updated_at"]),
            sql.when(values["state_entered_at"]), case_id, seen_version)


def _history_params(sql: _DriverSQL, row: HistoryRow) -> tuple:
    return (row.case_id, row.seq, row.kind, row.event, row.from_state, row.to_state, row.actor_id, row.actor_unit,
            row.actor_role, json.dumps(row.payload, ensure_ascii=False), sql.when(row.at), row.prev_hash, row.hash)


def advance(conn: Connection, case_id: int, seen_version: int, values: dict[str, Any]) -> bool:
    """Move the case row (state, version, hash, times); False when another writer got there first."""
    sql = _DRIVER[conn.dialect.name]
    cur = _cursor(conn)
    cur.execute(sql.advance, _move_params(sql, case_id, seen_version, values))
    return cur.rowcount == 1


def claim(conn: Connection, case_id: int, seen_version: int) -> bool:
    """Lock the case row at `seen_version` before an event writes its deadlines and timers:
    False when another writer has moved it on. Without the lock, two racing events would both write a
    deadline row and the loser would fail on its key instead of losing on the version. SQLite needs no
    lock: a writer already holds the whole database from BEGIN IMMEDIATE."""
    if conn.dialect.name == "sqlite":
        return True
    stmt = select(cases.c.id).where(cases.c.id == case_id, cases.c.version == seen_version).with_for_update()
    return conn.execute(stmt).first() is not None


def advance_and_append(conn: Connection, case_id: int, seen_version: int, values: dict[str, Any],
                       row: HistoryRow) -> bool:
    """advance, then append_history, as one unit: False (and nothing written) when another writer got
    there first. On PostgreSQL both go in one statement."""
    sql = _DRIVER[conn.dialect.name]
    moved, record = _move_params(sql, case_id, seen_version, values), _history_params(sql, row)
    cur = _cursor(conn)
    if sql.sqlite:
        cur.execute(sql.advance, moved)
        if cur.rowcount != 1:
            return False
        cur.execute(sql.insert, record)
        return True
    cur.execute(sql.advance_and_insert, moved + record)
    return cur.rowcount == 1


@dataclass(slots=True)
class CaseMove:
    """What an event writes on the case row: always its state, version, hash and times; `changes` holds
    the columns the event changed besides (closed, data, parties, due_at, due_role, due_unit)."""
    state: str
    version: int
    head_hash: str
    updated_at: datetime
    state_entered_at: datetime
    changes: dict[str, Any] = field(default_factory=dict)


def move(conn: Connection, case_id: int, seen_version: int, change: CaseMove, row: HistoryRow) -> bool:
    """Move the case row and append its history row, as one unit: False (and nothing written) when
    another writer got there first. Most events change only the state, version, hash and times; they
    take the prepared statements of advance_and_append, the others the general UPDATE."""
    values = {"state": change.state, "version": change.version, "head_hash": change.head_hash,
              "updated_at": change.updated_at, "state_entered_at": change.state_entered_at}
    if not change.changes:
        return advance_and_append(conn, case_id, seen_version, values, row)
    if not advance_with(conn, case_id, seen_version, {**values, **change.changes}):
        return False
    append_history(conn, row)
    return True


def advance_with(conn: Connection, case_id: int, seen_version: int, values: dict[str, Any]) -> bool:
    """Like advance, for the rarer events that also change data, parties or the due date."""
    stmt = update(cases).where(cases.c.id == case_id, cases.c.version == seen_version).values(**values)
    return conn.execute(stmt).rowcount == 1


def append_history(conn: Connection, row: HistoryRow) -> None:
    sql = _DRIVER[conn.dialect.name]
    _cursor(conn).execute(sql.insert, _history_params(sql, row))


def append_history_core(conn: Connection, row: HistoryRow) -> None:
    """The same insert through SQLAlchemy Core (kept for comparison in tests)."""
    conn.execute(_INSERT_HISTORY, {
        "case_id": row.case_id, "seq": row.seq, "kind": row.kind, "event": row.event,
        "from_state": row.from_state, "to_state": row.to_state, "actor_id": row.actor_id,
        "actor_unit": row.actor_unit, "actor_role": row.actor_role, "payload": row.payload,
        "at": row.at, "prev_hash": row.prev_hash, "hash": row.hash,
    })


def history_of(conn: Connection, case_id: int) -> list[HistoryRow]:
    return [HistoryRow(*r) for r in conn.execute(_HISTORY_OF, {"b_id": case_id})]


def replace_parties(conn: Connection, case_id: int, parties: dict[str, list[str]], roles: Iterable[str]) -> None:
    roles = list(roles)
    conn.execute(delete(parties_t).where(parties_t.c.case_id == case_id, parties_t.c.role.in_(roles)))
    rows = [{"case_id": case_id, "role": r, "unit_code": u} for r in roles for u in dict.fromkeys(parties.get(r, []))]
    if rows:
        conn.execute(insert(parties_t), rows)


def all_ids(conn: Connection) -> list[int]:
    return list(conn.execute(select(cases.c.id).order_by(cases.c.id)).scalars())


def count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(cases)).scalar_one()


@dataclass(frozen=True, slots=True)
class CaseRef:
    """Another case as an event names it: by number."""

    id: int
    number: str
    task_force_code: str
    workflow: str
    state: str
    closed: bool


def find_by_number(conn: Connection, number: str, task_force: str) -> CaseRef | None:
    """Numbers are unique within a task force, not across them."""
    d = Definition.__table__
    row = conn.execute(
        select(cases.c.id, cases.c.number, cases.c.task_force_code, d.c.name, cases.c.state, cases.c.closed)
        .join(d, d.c.id == cases.c.definition_id)
        .where(cases.c.task_force_code == task_force, cases.c.number == number)).first()
    return CaseRef(*row) if row else None
