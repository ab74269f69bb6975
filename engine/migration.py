"""Move running cases from one published version of a workflow to another.

A published version never changes, so a case keeps running on the version it started on until it is
moved explicitly. A move names the cases, the target version and a state mapping (old state → new
state; a state absent from the mapping keeps its name). It is planned first (a dry run that changes
nothing) and refused as a whole when any chosen case would land in a state the target version does not
have. Each move is one history row of kind `migrate` in the case's hash chain; replay follows it onto
the target version's machine. Moving back is the same operation towards the earlier version.

A move changes the case's definition and state only: its data, parties, due date and running
deadline clocks stay as they were (a clock whose expiry event the target version lacks is dropped
when it fires, like any event no longer permitted).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection

from db.repositories import cases as repo
from db.repositories import definitions as defs_repo
from engine.actors import Actor
from engine.cases import Cases
from engine.errors import EngineError, NotFound


class MigrationRefused(EngineError):
    """The plan would strand at least one case; nothing was moved."""


@dataclass(frozen=True)
class Move:
    case_id: int
    number: str
    from_version: int
    to_version: int
    from_state: str
    to_state: str
    problem: str | None = None


@dataclass(frozen=True)
class Plan:
    workflow: str
    to_version: int
    to_definition: int
    moves: list[Move]

    @property
    def problems(self) -> list[str]:
        return [f"{m.number}: {m.problem}" for m in self.moves if m.problem]

    def render(self) -> str:
        lines = [f"{m.number}: v{m.from_version} {m.from_state} → v{m.to_version} {m.to_state}"
                 + (f"   REFUSED: {m.problem}" if m.problem else "") for m in self.moves]
        return "\n".join(lines) or "(no cases)"


def _version_of(conn: Connection, definition_id: int) -> tuple[str, str, int]:
    row = defs_repo.row_of(conn, definition_id)
    if row is None:
        raise NotFound(f"definition {definition_id} not found", definition_id=definition_id)
    return row


def plan(cases: Cases, conn: Connection, *, task_force: str, workflow: str, to_version: int,
         numbers: Iterable[str], mapping: Mapping[str, str] | None = None) -> Plan:
    """What a move would do, case by case; nothing is written."""
    target = defs_repo.find(conn, task_force, workflow, to_version)
    if target is None:
        raise NotFound(f"workflow {workflow!r} version {to_version} not found in {task_force!r}", workflow=workflow)
    machine = cases.machine(conn, target.id)
    states = machine.definition.states
    mapping = dict(mapping or {})
    moves = []
    for number in numbers:
        ref = repo.find_by_number(conn, number, task_force)
        if ref is None:
            raise NotFound(f"case {number} not found", case=number)
        case = cases.load(conn, ref.id)
        tf, name, version = _version_of(conn, case.definition_id)
        problem = None
        to_state = mapping.get(case.state, case.state)
        if tf != task_force or name != workflow:
            problem = f"is a {tf}/{name} case, not {task_force}/{workflow}"
        elif case.definition_id == target.id:
            problem = f"already runs on version {to_version}"
        elif to_state not in states:
            problem = (f"state {case.state!r} would map to {to_state!r}, which version {to_version} does not have"
                       f" (its states: {', '.join(states)})")
        moves.append(Move(case.id, case.number, version, to_version, case.state, to_state, problem))
    unknown = [s for s in mapping.values() if s not in states]
    if unknown:
        raise MigrationRefused(f"the mapping names states version {to_version} does not have: "
                               f"{', '.join(sorted(set(unknown)))}")
    return Plan(workflow, to_version, target.id, moves)


def apply(cases: Cases, conn: Connection, p: Plan, actor: Actor, reason: str = "") -> list[int]:
    """Carry out a plan without problems, in the caller's transaction; returns the moved case ids."""
    if p.problems:
        raise MigrationRefused("refused, nothing moved: " + "; ".join(p.problems))
    target = cases.machine(conn, p.to_definition)
    now = cases.clock.now()
    moved = []
    for m in p.moves:
        case = cases.load(conn, m.case_id, lock=True)
        if case.state != m.from_state:
            raise MigrationRefused(f"{case.number} moved to {case.state!r} since the plan was made")
        seq = case.version + 1
        payload = {"from_definition": case.definition_id, "to_definition": p.to_definition,
                   "from_version": m.from_version, "to_version": m.to_version, "reason": reason}
        row = cases.history_row(case.id, seq, "migrate", "migrate", case.state, m.to_state, actor, None, payload,
                                now, case.head_hash)
        values = {"definition_id": p.to_definition, "state": m.to_state, "version": seq, "head_hash": row.hash,
                  "updated_at": now, "closed": m.to_state in target.final}
        if m.to_state != case.state:
            values["state_entered_at"] = now
        if not repo.advance_with(conn, case.id, case.version, values):
            raise MigrationRefused(f"{case.number} changed while it was being moved")
        repo.append_history(conn, row)
        moved.append(case.id)
    return moved
