"""Start cases and fire events: check role, state, payload and guards, then write state and one
hash-chained history row in one transaction — or nothing at all."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, NoReturn

from sqlalchemy import Connection

from db.repositories import cases as repo
from db.repositories import definitions as defs_repo
from db.repositories import outbox, sequences
from db.repositories import time as trepo
from db.repositories.case_queries import CaseRecord
from db.repositories.cases import CaseRow, HistoryRow
from db.session import Database
from engine.actors import Actor
from engine.calendar import WorkCalendar, default_calendar
from engine.clock import Clock, SystemClock
from engine.context import FireContext
from engine.deadlines import SYSTEM_ACTOR, DeadlineKeeper
from engine.definition import DeadlineSpec, Definition
from engine.errors import (
    BadPayload,
    ClockBehind,
    EngineError,
    GuardFailed,
    NotAllowed,
    NotFound,
    OwnerMissing,
    RoleNotHeld,
    StaleVersion,
)
from engine.figures import RECORDED, Figures
from engine.history import GENESIS, row_hash
from engine.loader import definition_from_spec
from engine.machine import CompiledEvent, CompiledMachine
from engine.naming import CREATE, Naming, SpawnSet, spawn_sets
from engine.notices import Notifier

SYSTEM = SYSTEM_ACTOR
_COMPILED_BY_HASH: dict[str, CompiledMachine] = {}
_COMPILE_LOCK = threading.Lock()
# The due role an event's deadlines leave when they leave it as it was (None is a value: no due role).
_UNCHANGED = object()


def compile_spec(spec: Mapping[str, Any], source: str) -> CompiledMachine:
    """Compile a stored definition, once per process per content hash."""
    definition = definition_from_spec(spec, source)
    with _COMPILE_LOCK:
        machine = _COMPILED_BY_HASH.get(definition.content_hash)
        if machine is None:
            machine = _COMPILED_BY_HASH[definition.content_hash] = CompiledMachine(definition)
        return machine


def _lead(parties: Mapping[str, list[str]], role: str | None) -> str | None:
    units = parties.get(role) if role else None
    return units[0] if units else None


class Cases:
    """The case service. Every method works in the caller's transaction and never commits: the request,
    the command or the worker round that calls it owns the unit of work (DESIGN invariant 2)."""

    def __init__(self, db: Database, clock: Clock | None = None, calendar: WorkCalendar | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.deadlines = DeadlineKeeper(calendar or default_calendar())
        self._machines: dict[int, CompiledMachine] = {}
        self.notifier = Notifier()
        self.naming = Naming()
        self.figures = Figures()
        self._spawn_sets: dict[int, dict[str, tuple[SpawnSet, ...]]] = {}

    # --- look-ups ---------------------------------------------------------------------------

    def machine(self, conn: Connection, definition_id: int) -> CompiledMachine:
        machine = self._machines.get(definition_id)
        if machine is None:
            found = defs_repo.spec_of(conn, definition_id)
            if found is None:
                raise NotFound(f"definition {definition_id} not found", definition_id=definition_id)
            machine = self._machines[definition_id] = compile_spec(*found)
        return machine

    def load(self, conn: Connection, case_id: int, lock: bool = False) -> CaseRow:
        """The case in the caller's transaction (locked for update on PostgreSQL when asked), or NotFound."""
        case = repo.load(conn, case_id, lock=lock)
        if case is None:
            raise NotFound(f"case {case_id} not found", case_id=case_id)
        return case

    def _check_parties(self, conn: Connection, task_force: str, d, sets, fields: dict[str, Any],
                       actor: Actor, named_by: Actor, how: str, prefix: str = "") -> None:
        """The units that fields (and the actor) bring into party roles: allowed by the task force's naming rules."""
        field_sets, actor_sets = sets
        for name, role in field_sets:
            value = fields.get(name)
            if value not in (None, "", []):
                self.naming.check_role(conn, task_force, d, role, value if isinstance(value, list) else [value],
                                       how=how, actor=named_by, field=prefix + name)
        for role in actor_sets:
            if actor.unit:
                self.naming.check_role(conn, task_force, d, role, [actor.unit], how=how, actor=actor, field="actor")

    def _spawns_of(self, conn: Connection, task_force: str, definition_id: int,
                   m: CompiledMachine) -> dict[str, tuple[SpawnSet, ...]]:
        """Per definition, once: which payload keys its events' spawns make parties of the cases they open."""
        found = self._spawn_sets.get(definition_id)
        if found is None:
            def child_of(name: str):
                row = defs_repo.find(conn, task_force, name, None)
                return self.machine(conn, row.id).definition if row is not None else None

            found = self._spawn_sets[definition_id] = spawn_sets(m.definition, child_of)
        return found

    # --- start ------------------------------------------------------------------------------

    def start(self, conn: Connection, *, task_force: str, workflow: str, actor: Actor, title: str,
                 description: str = "", parties: Mapping[str, list[str]] | None = None,
                 payload: Mapping[str, Any] | None = None, version: int | None = None,
                 named_by: Actor | None = None) -> CaseRow:
        """Open a case. `named_by` is the person on whose event the system opens it (a spawned case):
        the naming rules that speak of the actor's own unit or jurisdiction judge that person."""
        found = defs_repo.find(conn, task_force, workflow, version)
        if found is None:
            raise NotFound(f"workflow {workflow!r} (version {version or 'latest'}) not found in {task_force!r}",
                           workflow=workflow)
        m = self.machine(conn, found.id)
        d = m.definition
        role = next((r for r in d.create.roles if r in actor.roles), None)
        if role is None:
            raise RoleNotHeld("create", "(new)", [], d.create.roles)
        if not title or not title.strip():
            raise BadPayload("title", "must not be empty")
        clean_parties: dict[str, list[str]] = {}
        for prole, units in (parties or {}).items():
            if prole not in d.roles or d.roles[prole].kind != "party":
                raise BadPayload(f"parties.{prole}", f"not a party role of {d.name}")
            units = list(dict.fromkeys(units))
            self.naming.check_units(conn, task_force, units, f"parties.{prole}")
            self.naming.check_role(conn, task_force, d, prole, units, how=CREATE, actor=named_by or actor,
                                   field=f"parties.{prole}")
            clean_parties[prole] = units
        fields = m.validate(None, payload)
        self.naming.check_unit_fields(conn, task_force, d.create.fields, fields)
        places = self.naming.places(d)
        if places.create_fields or places.create_actor:
            self._check_parties(conn, task_force, d, (places.create_fields, places.create_actor), fields, actor,
                                named_by or actor, CREATE)

        now = self.clock.now()
        year = FireContext.local_date(now).year
        serial = sequences.next_value(conn, f"case:{task_force}:{d.number_prefix}", year)
        initial = d.initial
        case_id = repo.insert_case(conn, {
            "number": f"{d.number_prefix}-{year}-{serial:04d}", "task_force_code": task_force,
            "definition_id": found.id, "state": initial, "version": 1, "closed": initial in m.final,
            "title": title.strip(), "description": description, "data": fields, "parties": clean_parties,
            "head_hash": GENESIS, "created_at": now, "updated_at": now, "state_entered_at": now, "due_at": None,
        })
        ctx = FireContext(conn, case_id, initial, initial, "create", actor, fields, now, dict(fields),
                          dict(clean_parties), None, cases=self, definition=d)
        repo.replace_parties(conn, case_id, clean_parties, clean_parties.keys())
        for named, kwargs in m.create_effects:
            named.fn(ctx, **kwargs)
        # The task force's `unique` keys, written in this transaction: a duplicate is refused here.
        self.figures.claim_unique(conn, task_force, d.name, case_id, ctx.data, ctx.parties)
        ops = [d.create.deadlines, d.states[initial].deadlines]  # opening, then entering the initial state
        if any(ops):
            due = self.deadlines.apply(conn, case_id=case_id, definition=d, ops=[o for o in ops if o],
                                       payload=fields, data=ctx.data, now=now, cancel_episode=self._cancel_episode(conn))
            if not ctx.due_changed:
                ctx.set_due(due.due_at)
            due_role = due.due_role
            self._check_owners(conn, case_id, d, ops, ctx.parties)
        else:
            due_role = None
        record = {"title": title.strip(), "parties": ctx.parties, "fields": fields}
        row = self.history_row(case_id, 1, "create", "create", None, initial, actor, role, record, now, GENESIS)
        repo.append_history(conn, row)
        values: dict[str, Any] = {"head_hash": row.hash, "data": ctx.data, "parties": ctx.parties}
        if ctx.due_changed:
            values["due_at"] = ctx.new_due
            values["due_role"] = due_role
            values["due_unit"] = _lead(ctx.parties, due_role)
        repo.advance_with(conn, case_id, 1, values)
        if ctx.changed_parties:
            repo.replace_parties(conn, case_id, ctx.parties, ctx.changed_parties.keys())
        self.notifier.record(conn, task_force=task_force, definition=d, case_id=case_id,
                             number=f"{d.number_prefix}-{year}-{serial:04d}", title=title.strip(), seq=1,
                             cause="create", state=initial, parties=ctx.parties, payload=fields,
                             actor_unit=actor.unit, now=now)
        for named, kwargs in m.create_cross:
            named.fn(ctx, **kwargs)
        return self.load(conn, case_id)

    # --- fire -------------------------------------------------------------------------------

    def fire(self, conn: Connection, case: CaseRow | int, event: str, actor: Actor,
                payload: Mapping[str, Any] | None = None, *, expected_version: int | None = None,
                note: Mapping[str, Any] | None = None) -> CaseRow:
        """Apply one event. A CaseRow may be passed to skip the read: the version check still holds.
        `note` adds reserved keys to the history row only (who acted for whom), never to the payload
        effects and guards see.

        The steps, each below: the event is permitted and its payload checked (nothing read from the
        clock yet); guards are judged and recorded figures computed; the history row is built;
        deadlines and effects run; the case row moves at its version with the row appended; then what
        follows a standing event (documents, parties, notices, effects on other cases)."""
        if isinstance(case, int):
            case = self.load(conn, case)
        if expected_version is not None and expected_version != case.version:
            self._stale(conn, case.id, expected_version)
        m = self.machine(conn, case.definition_id)
        held = actor.roles_on(case.parties)
        ev = self._permitted(m, case.state, event, held)
        clean = self._checked_payload(conn, case, m, ev, actor, payload)
        dest = m.dest[(case.state, event)]
        now = self.clock.now()
        if case.updated_at is not None and now < case.updated_at:
            raise ClockBehind(case.id, now, case.updated_at)
        ops = m.deadline_ops.get((case.state, event))
        ctx, note = self._judged(conn, case, m, ev, dest, actor, clean, now, ops, note)
        role = next((r for r in ev.spec.roles if r in held), None)
        seq = case.version + 1
        row = self.history_row(case.id, seq, "event", event, case.state, dest, actor, role,
                               {**clean, **note} if note else clean, now, case.head_hash)
        due_role = self._run_effects(conn, case, m, ev, ctx, ops, clean, now) if ctx is not None else _UNCHANGED
        change = self._case_move(case, dest, seq, row.hash, now, dest in m.final, ctx, due_role)
        if not repo.move(conn, case.id, case.version, change, row):
            self._stale(conn, case.id, case.version)
        parties = change.changes.get("parties", case.parties)
        if ev.spec.documents:
            outbox.enqueue(conn, [("document", case.id, seq, {"kind": kind}) for kind in ev.spec.documents], now)
        if ctx is not None and ctx.changed_parties:
            repo.replace_parties(conn, case.id, ctx.parties, ctx.changed_parties.keys())
        self.notifier.record(conn, task_force=case.task_force_code, definition=m.definition, case_id=case.id,
                             number=case.number, title=case.title, seq=seq, cause=event, state=dest,
                             parties=parties, payload=clean, actor_unit=actor.unit, now=now)
        if ev.cross:
            # Other cases are opened, linked or moved once this event stands; their notes follow its row.
            for named, kwargs in ev.cross:
                named.fn(ctx, **kwargs)
            return self.load(conn, case.id)
        return CaseRow(
            case.id, case.number, case.task_force_code, case.definition_id, dest, seq, dest in m.final,
            case.title, change.changes.get("data", case.data), parties, row.hash,
            change.changes.get("due_at", case.due_at), change.state_entered_at,
            change.changes.get("due_role", case.due_role), now,
        )

    def _stale(self, conn: Connection, case_id: int, seen_version: int) -> NoReturn:
        current = self.load(conn, case_id)
        raise StaleVersion(case_id, seen_version, current.version, current.state)

    def _checked_payload(self, conn: Connection, case: CaseRow, m: CompiledMachine, ev: CompiledEvent,
                         actor: Actor, payload: Mapping[str, Any] | None) -> dict[str, Any]:
        """The event's payload typed and checked: its fields, the units it names, the parties it sets on
        this case and on the cases it opens."""
        event = ev.spec.name
        clean = m.validate(ev, payload)
        if ev.spec.fields:
            self.naming.check_unit_fields(conn, case.task_force_code, ev.spec.fields, clean)
        places = self.naming.places(m.definition)
        if event in places.event_fields or event in places.event_actor:
            self._check_parties(conn, case.task_force_code, m.definition,
                                (places.event_fields.get(event, ()), places.event_actor.get(event, ())), clean,
                                actor, actor, event)
        if ev.cross:
            sets = self._spawns_of(conn, case.task_force_code, case.definition_id, m).get(event)
            if sets:
                self.naming.check_spawns(conn, case.task_force_code, sets, clean, case.data, actor)
        return clean

    def _judged(self, conn: Connection, case: CaseRow, m: CompiledMachine, ev: CompiledEvent, dest: str,
                actor: Actor, clean: dict[str, Any], now, ops,
                note: Mapping[str, Any] | None) -> tuple[FireContext | None, Mapping[str, Any] | None]:
        """(the context guards and effects share, the history row's note): guards refuse here, before
        anything is written. No context is built for an event with no guard, effect or deadline."""
        if not (ev.guards or ev.effects or ops or ev.cross):
            return None, note
        ctx = FireContext(conn, case.id, case.state, dest, ev.spec.name, actor, clean, now, case.data,
                          case.parties, case.due_at, cases=self, definition=m.definition)
        for named, kwargs in ev.guards:
            reason = named.fn(ctx, **kwargs)
            if reason:
                raise GuardFailed(named.name, reason)
        # Figures an effect records are computed now and written into the event's own row, so a
        # replay (a document rebuilt later) reads the value of this moment, never a new one.
        recorded = self.figures.recorded(ctx, ev.effects)
        if recorded:
            note = {**(note or {}), RECORDED: recorded}
            ctx.payload = {**clean, RECORDED: recorded}
        return ctx, note

    def _run_effects(self, conn: Connection, case: CaseRow, m: CompiledMachine, ev: CompiledEvent,
                     ctx: FireContext, ops, clean: dict[str, Any], now):
        """Deadlines first (their rows are written before the case moves, so the row is held at its
        version), then the event's effects. Returns the due role the deadlines leave, or _UNCHANGED."""
        due_role = _UNCHANGED
        if ops:
            if not repo.claim(conn, case.id, case.version):
                self._stale(conn, case.id, case.version)
            due = self.deadlines.apply(conn, case_id=case.id, definition=m.definition, ops=ops, payload=clean,
                                       data=ctx.data, now=now, cancel_episode=self._cancel_episode(conn))
            ctx.set_due(due.due_at)
            due_role = due.due_role
        for named, kwargs in ev.effects:
            named.fn(ctx, **kwargs)
        if ops:
            self._check_owners(conn, case.id, m.definition, ops, ctx.parties)
        return due_role

    @staticmethod
    def _case_move(case: CaseRow, dest: str, seq: int, head_hash: str, now, closed: bool,
                   ctx: FireContext | None, due_role) -> repo.CaseMove:
        """What the event writes on the case row: its new state, version and hash, and only the columns
        it changed (`closed` is indexed: written only when it changes)."""
        change = repo.CaseMove(dest, seq, head_hash, now, now if dest != case.state else case.state_entered_at)
        if closed != case.closed:
            change.changes["closed"] = closed
        if ctx is not None:
            if ctx.changed_data:
                change.changes["data"] = ctx.data
            if ctx.changed_parties:
                change.changes["parties"] = ctx.parties
            if ctx.due_changed:
                change.changes["due_at"] = ctx.new_due
            if due_role is not _UNCHANGED:
                change.changes["due_role"] = due_role
            if "due_role" in change.changes or "parties" in change.changes:
                role = change.changes.get("due_role", case.due_role)
                change.changes["due_unit"] = _lead(change.changes.get("parties", case.parties), role)
        return change

    def _cancel_episode(self, conn: Connection):
        """Meeting or extending a deadline ends its supervision episode: the open ladder case is cancelled."""

        def cancel(case_id: int, deadline: str, spec: DeadlineSpec) -> None:
            if spec.supervise is None:
                return
            for ladder_id in trepo.open_linked(conn, case_id, "supervision", deadline):
                ladder = self.load(conn, ladder_id)
                lm = self.machine(conn, ladder.definition_id)
                if spec.supervise.cancel in lm.allowed(ladder.state, SYSTEM.roles_on(ladder.parties)):
                    self.fire(conn, ladder, spec.supervise.cancel, SYSTEM, {})

        return cancel

    def link(self, conn: Connection, from_case: int, to_case: int, kind: str, *, event: str,
             actor: Actor) -> None:
        """Record a link between two cases: one link row, and a note in each case's history."""
        trepo.link(conn, from_case, to_case, kind, self.clock.now())
        here, there = self.load(conn, from_case), self.load(conn, to_case)
        self.annotate(conn, here, "linked", actor, {"kind": kind, "to": there.number, "by": event})
        self.annotate(conn, there, "linked", actor, {"kind": kind, "from": here.number, "by": event})

    def annotate(self, conn: Connection, case: CaseRow | int, note: str, actor: Actor,
                 payload: dict[str, Any], role: str | None = None) -> CaseRow:
        """Append a history row that records something without moving the state (warnings, links)."""
        if isinstance(case, int):
            case = self.load(conn, case)
        now = self.clock.now()
        if case.updated_at is not None and now < case.updated_at:
            raise ClockBehind(case.id, now, case.updated_at)
        seq = case.version + 1
        row = self.history_row(case.id, seq, "note", note, case.state, case.state, actor, role, payload, now,
                               case.head_hash)
        values = {"state": case.state, "version": seq, "head_hash": row.hash, "updated_at": now,
                  "state_entered_at": case.state_entered_at}
        if not repo.advance(conn, case.id, case.version, values):
            current = self.load(conn, case.id)
            raise StaleVersion(case.id, case.version, current.version, current.state)
        repo.append_history(conn, row)
        self.notifier.record(conn, task_force=case.task_force_code, definition=self.machine(conn, case.definition_id)
                             .definition, case_id=case.id, number=case.number, title=case.title, seq=seq, cause=note,
                             state=case.state, parties=case.parties, payload=payload, actor_unit=actor.unit, now=now)
        return self.load(conn, case.id)

    @staticmethod
    def _permitted(m: CompiledMachine, state: str, event: str, held: frozenset[str]) -> CompiledEvent:
        allowed = m.allowed(state, held)
        if event in allowed:
            return m.events[event]
        if event in m.triggers.get(state, ()):
            raise RoleNotHeld(event, state, allowed, m.events[event].spec.roles)
        raise NotAllowed(event, state, allowed)

    @staticmethod
    def history_row(case_id: int, seq: int, kind: str, event: str, from_state: str | None, to_state: str,
                    actor: Actor, role: str | None, payload: dict[str, Any], at, prev: str) -> HistoryRow:
        """One history row, hashed onto the chain: the one place rows are built (events, notes, migration,
        and verify rebuilding them)."""
        digest = row_hash(case_id=case_id, seq=seq, kind=kind, event=event, from_state=from_state,
                          to_state=to_state, actor_id=actor.id, actor_unit=actor.unit, actor_role=role,
                          payload=payload, at=at, prev_hash=prev)
        return HistoryRow(case_id, seq, kind, event, from_state, to_state, actor.id, actor.unit, role, payload,
                          at, prev, digest)

    # --- reading ----------------------------------------------------------------------------

    def allowed_events(self, conn: Connection, case: CaseRow | int, actor: Actor) -> list[str]:
        if isinstance(case, int):
            case = self.load(conn, case)
        return self.machine(conn, case.definition_id).allowed(case.state, actor.roles_on(case.parties))

    @staticmethod
    def _check_owners(conn: Connection, case_id: int, d: Definition, ops, parties: Mapping[str, list[str]]) -> None:
        """Refuse the event when a deadline it runs is owed by a party role that holds no unit (after the
        event's own effects, which may name one)."""
        for op in ops:
            if not op:
                continue
            for name in (*op.start, *op.reset, *op.resume, *(n for n, _ in op.extend)):
                spec = d.deadlines[name]
                if spec.owner is None or parties.get(spec.owner):
                    continue
                row = trepo.get_deadline(conn, case_id, name)
                if row is not None and row.status in ("running", "paused"):
                    raise OwnerMissing(spec.owner, d.roles[spec.owner].title or spec.owner, name,
                                       spec.title or name)

    def open_events(self, conn: Connection, case: CaseRow | CaseRecord, actor: Actor) -> list[str]:
        """The events `actor` may fire now: allowed from the state to a role held, less those a guard
        refuses before any field is filled in (a closed objection window, a flag already set). Guards
        on the fields themselves are judged when the event is fired."""
        return [name for name, refused in self.judged_events(conn, case, actor) if refused is None]

    def judged_events(self, conn: Connection, case: CaseRow | CaseRecord,
                      actor: Actor) -> list[tuple[str, str | None]]:
        """Every event the state and `actor`'s roles allow, with the reason a guard that needs no input
        refuses it now (None: open) — so a page can say why a step is not yet possible."""
        m = self.machine(conn, case.definition_id)
        now = self.clock.now()
        out: list[tuple[str, str | None]] = []
        for name in m.allowed(case.state, actor.roles_on(case.parties)):
            ev = m.events[name]
            refused = None
            if ev.pre_guards:
                ctx = FireContext(conn, case.id, case.state, m.dest[(case.state, name)], name, actor, {}, now,
                                  case.data, case.parties, case.due_at, cases=self, definition=m.definition)
                refused = next((r for named, kwargs in ev.pre_guards if (r := named.fn(ctx, **kwargs))), None)
            out.append((name, refused))
        return out

    def history(self, conn: Connection, case_id: int) -> list[HistoryRow]:
        self.load(conn, case_id)
        return repo.history_of(conn, case_id)

    def replay(self, conn: Connection, case_id: int) -> str:
        """The state the history leads to, recomputed through the case's definition."""
        case = self.load(conn, case_id)
        return self._replay(self._machines_for(conn, case.definition_id), repo.history_of(conn, case_id))

    def _machines_for(self, conn: Connection, current: int):
        """(look-up of a definition's machine by id, the case's definition id) for replay."""
        return (lambda definition_id: self.machine(conn, definition_id)), current

    @staticmethod
    def _replay(machines, rows: list[HistoryRow]) -> str:
        """Replay through the definition in force at each row: a `migrate` row moves the case onto
        another version's machine, from the state it left to the state it maps to."""
        machine_by_id, current = machines
        moves = [r for r in rows if r.kind == "migrate"]
        on = moves[0].payload["from_definition"] if moves else current
        m = machine_by_id(on)
        state: str | None = None
        for row in rows:
            if row.kind == "migrate":
                if row.from_state != state or row.payload.get("from_definition") != on:
                    raise EngineError(f"case {row.case_id}: migrate row {row.seq} does not start where replay is")
                on = row.payload["to_definition"]
                m = machine_by_id(on)
                if row.to_state not in m.definition.states:
                    raise EngineError(f"case {row.case_id}: migrate row {row.seq} lands in {row.to_state!r}, "
                                      "which the target version does not have")
                state = row.to_state
                continue
            if row.kind == "create":
                if state is not None or row.to_state != m.definition.initial:
                    raise EngineError(f"case {row.case_id}: create row {row.seq} out of place")
                state = row.to_state
                continue
            if row.kind == "note":
                if not (row.from_state == row.to_state == state):
                    raise EngineError(f"case {row.case_id}: note row {row.seq} claims a state change")
                continue
            if row.from_state != state:
                raise EngineError(f"case {row.case_id}: row {row.seq} starts from {row.from_state!r}, "
                                  f"replay is at {state!r}")
            dest = m.dest.get((state, row.event))
            if dest is None or dest != row.to_state:
                raise EngineError(f"case {row.case_id}: row {row.seq} {row.event!r} from {state!r} cannot reach "
                                  f"{row.to_state!r}")
            state = dest
        if state is None:
            raise EngineError("empty history")
        if on != current:
            raise EngineError(f"case {rows[0].case_id}: history ends on definition {on}, "
                              f"the case runs on {current}")
        return state

    def verify(self, conn: Connection) -> list[str]:
        """Replay and re-hash every case; returns the problems found (empty when all is sound)."""
        problems: list[str] = []
        for case_id in repo.all_ids(conn):
            case = self.load(conn, case_id)
            rows = repo.history_of(conn, case_id)
            problems.extend(self._verify_case(self._machines_for(conn, case.definition_id), case, rows))
        return problems

    def _verify_case(self, machines, case: CaseRow, rows: list[HistoryRow]) -> list[str]:
        out = []
        try:
            state = self._replay(machines, rows)
            if state != case.state:
                out.append(f"case {case.number}: state {case.state!r} but history replays to {state!r}")
        except EngineError as exc:
            out.append(f"case {case.number}: {exc}")
        if len(rows) != case.version or [r.seq for r in rows] != list(range(1, len(rows) + 1)):
            out.append(f"case {case.number}: version {case.version} but {len(rows)} history rows")
        backwards = next((b for a, b in zip(rows, rows[1:], strict=False) if b.at < a.at), None)
        if backwards is not None:
            out.append(f"case {case.number}: row {backwards.seq} is dated {backwards.at.isoformat()}, "
                       "earlier than the row before it (time ran backwards)")
        prev = GENESIS
        for r in rows:
            if r.prev_hash != prev or r.hash != self.history_row(
                    r.case_id, r.seq, r.kind, r.event, r.from_state, r.to_state,
                    Actor(r.actor_id, r.actor_unit), r.actor_role, r.payload, r.at, prev).hash:
                out.append(f"case {case.number}: hash chain broken at row {r.seq}")
                break
            prev = r.hash
        else:
            if rows and case.head_hash != prev:
                out.append(f"case {case.number}: head hash does not match the last history row")
        return out
