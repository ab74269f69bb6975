"""A case as it stood at one history row: the frozen, plain record a document is built from.

A document issued by history row N shows the case as row N left it, however late its outbox item
is rendered and however often it is retried: the case data is replayed through the definition's
effects up to row N (effects are pure functions of the payload and the case, as the engine's
replay of states assumes), never read from the case row as it is now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection

from db.repositories import cases as cases_repo
from db.repositories import definitions as defs_repo
from db.repositories import organisation as org_repo
from db.repositories.cases import HistoryRow
from documents.render import RenderError
from engine.actors import Actor
from engine.cases import compile_spec
from engine.context import FireContext
from engine.machine import CompiledMachine


class MissingData(RenderError):
    """The case lacks a value a document needs (a case data key, a party or a unit)."""


def freeze(value: Any) -> Any:
    """A read-only copy of plain data: mappings become mapping proxies, lists become tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


@dataclass(frozen=True, slots=True)
class UnitInfo:
    code: str
    name: str
    short_name: str
    kind: str


@dataclass(frozen=True, slots=True)
class TaskForceInfo:
    code: str
    name: str
    short_name: str
    doc_prefix: str
    office: UnitInfo | None
    members: tuple[str, ...]

    @property
    def office_title(self) -> str:
        """How the office signs: "两湖专班办公室"."""
        return f"{self.short_name}办公室"


@dataclass(frozen=True)
class CaseRecord:
    """The case at history row `cause.seq`, with the names of every unit it may mention."""

    case_id: int
    case_number: str
    title: str
    task_force: TaskForceInfo
    state: str
    data: Mapping[str, Any]
    parties: Mapping[str, tuple[str, ...]]
    due_at: dt.datetime | None
    history: tuple[HistoryRow, ...]
    units: Mapping[str, UnitInfo]

    @property
    def cause(self) -> HistoryRow:
        """The history row that issues the document."""
        return self.history[-1]

    @property
    def issued_on(self) -> dt.date:
        """The document's date (成文日期): the local day of the causing event."""
        return FireContext.local_date(self.cause.at)

    def get(self, key: str, default: Any = None) -> Any:
        """A value from the causing event's payload, else from the case data as that event left it."""
        payload = self.cause.payload if self.cause.kind != "create" else self.cause.payload.get("fields", {})
        if payload.get(key) is not None:
            return freeze(payload[key])
        value = self.data.get(key)
        return default if value is None else value

    def require(self, key: str) -> Any:
        value = self.get(key)
        if value is None or value == "" or value == ():
            raise MissingData(f"case {self.case_number}: no {key!r} in the case data or the event")
        return value

    def party(self, role: str) -> tuple[str, ...]:
        return self.parties.get(role, ())

    def unit(self, code: str) -> UnitInfo:
        found = self.units.get(code)
        if found is None:
            raise MissingData(f"case {self.case_number}: unknown unit {code!r}")
        return found

    def unit_names(self, codes: Sequence[str] | None, *, short: bool = False) -> tuple[str, ...]:
        return tuple(self.unit(c).short_name if short else self.unit(c).name for c in codes or ())


def replay_data(machine: CompiledMachine, rows: Sequence[HistoryRow], conn: Connection | None = None,
                machine_of=None) -> tuple[dict[str, Any], dict[str, list[str]], dt.datetime | None]:
    """Case data, parties and due date after `rows`, recomputed through the definition's effects
    (a `migrate` row moves on to the version it names, through `machine_of`)."""
    data: dict[str, Any] = {}
    parties: dict[str, list[str]] = {}
    due: dt.datetime | None = None
    for row in rows:
        if row.kind == "create":
            payload = dict(row.payload.get("fields", {}))
            data = dict(payload)
            # The create row records the parties after its effects; running them again is idempotent.
            parties = {role: list(units) for role, units in row.payload.get("parties", {}).items()}
            effects = machine.create_effects
        elif row.kind in ("event", "timer"):
            event = machine.events.get(row.event)
            payload = row.payload
            effects = event.effects if event else ()
        elif row.kind == "migrate" and machine_of is not None:
            machine = machine_of(row.payload["to_definition"])
            continue
        else:  # rows that record without acting (notes): no effects ran
            continue
        if not effects:
            continue
        ctx = FireContext(conn, row.case_id, row.from_state or row.to_state, row.to_state, row.event,
                          Actor(row.actor_id, row.actor_unit), payload, row.at, data, parties, due)
        for named, kwargs in effects:
            named.fn(ctx, **kwargs)
        data, parties = ctx.data, ctx.parties
        if ctx.due_changed:
            due = ctx.new_due
    return data, parties, due


# Compiled definitions by content hash: a published definition never changes, and parsing its spec
# again costs more than everything else a document needs from the database.
_MACHINES: dict[str, CompiledMachine] = {}


def _machine(conn: Connection, definition_id: int) -> CompiledMachine:
    key = defs_repo.content_hash_of(conn, definition_id)
    machine = _MACHINES.get(key) if key else None
    if machine is None:
        spec = defs_repo.spec_of(conn, definition_id)
        if key is None or spec is None:
            raise MissingData(f"definition {definition_id} not found")
        machine = _MACHINES[key] = compile_spec(*spec)
    return machine


def load(conn: Connection, case_id: int, history_seq: int | None = None) -> CaseRecord:
    """The record of a case at one of its history rows (default: its latest)."""
    case = cases_repo.load(conn, case_id)
    if case is None:
        raise MissingData(f"case {case_id} not found")
    history_seq = case.version if history_seq is None else history_seq
    every_row = cases_repo.history_of(conn, case_id)
    rows = [r for r in every_row if r.seq <= history_seq]
    if not rows or rows[-1].seq != history_seq:
        raise MissingData(f"case {case.number} has no history row {history_seq}")
    moves = [r for r in every_row if r.kind == "migrate"]
    first = moves[0].payload["from_definition"] if moves else case.definition_id
    data, parties, due = replay_data(_machine(conn, first), rows, conn, lambda i: _machine(conn, i))

    tf = org_repo.task_force(conn, case.task_force_code)
    if tf is None:
        raise MissingData(f"case {case.number}: task force {case.task_force_code!r} not found")
    units = {u.code: UnitInfo(u.code, u.name, u.short_name, u.kind) for u in org_repo.units(conn)}
    tf_units = org_repo.task_force_units(conn, tf.code)
    # The office is the unit of kind "office" in the task force (not its host units).
    office = next((units[u.unit_code] for u in tf_units if u.kind == "office"), None)
    return CaseRecord(
        case_id=case.id, case_number=case.number, title=case.title,
        task_force=TaskForceInfo(tf.code, tf.name, tf.short_name, tf.doc_prefix, office,
                                 tuple(u.unit_code for u in tf_units if u.member)),
        state=rows[-1].to_state, data=freeze(data),
        parties=MappingProxyType({role: tuple(codes) for role, codes in parties.items()}),
        due_at=due, history=tuple(rows), units=MappingProxyType(units),
    )
