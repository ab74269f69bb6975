"""Who may see a case and who may act on it: rules on the viewer, the case's parties and task force.

A viewer reads a case when
  - its unit is a party to the case (any role: referrer, receiver, invited, procuratorate, ...), or
  - its unit is an office unit of the case's task force (the office sees every case of it), or
  - it holds, in the case's task force, an organisation role that the case's definition lets fire
    events (such a role acts on every case of that workflow — convenor, office head — so it must
    see them all), or
  - the case has been shared with its unit for reading (抄送/传阅): such a unit reads, it does not act.
Everything else is invisible and answers "not found", so case numbers leak nothing. Organisation
roles count only inside the viewer's own task force. No rule names a workflow or a role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from db.repositories import assignments as assign_repo
from db.repositories import case_queries
from db.repositories import cases as cases_repo
from db.repositories import definitions as defs_repo
from db.repositories.case_queries import CaseFilter, CaseRecord, Scope
from db.repositories.cases import CaseRow, HistoryRow
from engine.acting import Acting, acting_on
from engine.actors import Actor
from engine.cases import Cases
from engine.definition import Definition
from engine.errors import NotAssignee, NotFound, RoleNotHeld
from engine.machine import CompiledMachine


@dataclass(frozen=True, slots=True)
class Viewer:
    """An account (a person or a system) speaking for one unit in one task force."""

    id: str
    name: str
    unit: str | None
    task_force: str
    roles: frozenset[str]
    # The unit is an office unit (kind "office") of its task force.
    office: bool = False

    def actor_on(self, task_force: str) -> Actor:
        """The engine's actor on a case of `task_force`: organisation roles stay at home."""
        roles = self.roles if task_force == self.task_force else frozenset()
        return Actor(self.id, self.unit, roles, self.name)


def acting_roles(definition: Definition) -> frozenset[str]:
    """Roles that some event of the definition lets fire (creating a case is not acting on one)."""
    return frozenset(r for e in definition.events.values() for r in e.roles)


def wide_roles(definition: Definition) -> frozenset[str]:
    """Organisation roles that act on every case of the definition, whoever the parties are."""
    return frozenset(r for r in acting_roles(definition) if definition.roles[r].kind == "org")


def is_party(unit: str | None, parties: Mapping[str, Iterable[str]]) -> bool:
    return unit is not None and any(unit in units for units in parties.values())


def read_scope(viewer: Viewer, definitions: Iterable[tuple[int, Definition]]) -> Scope:
    """The scope of `viewer` given the definitions of its own task force."""
    ids = frozenset(i for i, d in definitions if wide_roles(d) & viewer.roles)
    return Scope(viewer.unit, viewer.task_force, viewer.office, ids)


def can_read(scope: Scope, task_force: str, definition_id: int, parties: Mapping[str, Iterable[str]]) -> bool:
    if is_party(scope.unit, parties):
        return True
    if task_force != scope.task_force:
        return False
    return scope.whole_task_force or definition_id in scope.definition_ids


def may_contribute(viewer: Viewer, case: CaseRow, definition: Definition) -> bool:
    """May add evidence: holds a role on the case that some event of its workflow names.

    Readers whose only link to the case is a role no event uses (an invited observer) may not.
    """
    held = viewer.actor_on(case.task_force_code).roles_on(case.parties)
    return bool(held & acting_roles(definition))


class CaseAccess:
    """The case service as one viewer sees it: invisible cases do not exist, actions carry its roles."""

    def __init__(self, cases: Cases, viewer: Viewer) -> None:
        self.cases = cases
        self.viewer = viewer
        self._scope: Scope | None = None
        # (case id, the viewer's unit is a party) -> how the viewer acts on it, within one transaction
        # (a writer's connection outlives many): a request asks twice — to fire, then for the reply's open events — and only
        # 分办 changes the answer inside it (it forgets it).
        self._acting: dict[tuple[int, bool], Acting] = {}
        self._acting_in: object = None

    def definitions(self, conn: Connection):
        """The published definitions of the viewer's task force (other task forces' are not listed)."""
        return defs_repo.of_task_force(conn, self.viewer.task_force)

    def scope(self, conn: Connection) -> Scope:
        if self._scope is None:
            ids = defs_repo.ids_of_task_force(conn, self.viewer.task_force)
            self._scope = read_scope(self.viewer, ((i, self.cases.machine(conn, i).definition) for i in ids))
        return self._scope

    def visible(self, conn: Connection, case: CaseRow | CaseRecord) -> bool:
        if is_party(self.viewer.unit, case.parties):
            return True
        if case.task_force_code == self.viewer.task_force and (
                self.viewer.office
                or wide_roles(self.cases.machine(conn, case.definition_id).definition) & self.viewer.roles):
            return True
        return self.viewer.unit is not None and assign_repo.is_shared_with(conn, case.id, self.viewer.unit)

    def load(self, conn: Connection, case_id: int) -> CaseRow:
        """The case, or NotFound — whether it is missing or merely not this viewer's to see."""
        case = cases_repo.load(conn, case_id)
        if case is None or not self.visible(conn, case):
            raise NotFound(f"case {case_id} not found", case_id=case_id)
        return case

    def record(self, conn: Connection, case_id: int) -> CaseRecord:
        """Everything a reader is shown of one case, or NotFound."""
        found = case_queries.record(conn, case_id)
        if found is None or not self.visible(conn, found):
            raise NotFound(f"case {case_id} not found", case_id=case_id)
        return found

    def record_after_acting(self, conn: Connection, case_id: int) -> CaseRecord:
        """The case as it stands after this viewer acted on it — shown once even if the act
        ended the viewer's access (a reassignment away from its unit)."""
        found = case_queries.record(conn, case_id)
        if found is None:
            raise NotFound(f"case {case_id} not found", case_id=case_id)
        return found

    def search(self, conn: Connection, f: CaseFilter, now: datetime) -> tuple[list[CaseRecord], int]:
        return case_queries.search(conn, self.scope(conn), f, now)

    def machine(self, conn: Connection, case: CaseRow | CaseRecord) -> CompiledMachine:
        return self.cases.machine(conn, case.definition_id)

    def acting(self, conn: Connection, case: CaseRow | CaseRecord) -> Acting:
        """The viewer as it acts on this case: itself, a delegate of the unit's 承办人, or without its
        unit's party roles while the case is a colleague's (engine/acting.py)."""
        unit = self.viewer.unit
        unit_of_work = conn.get_transaction() or conn
        if unit_of_work is not self._acting_in:
            self._acting, self._acting_in = {}, unit_of_work
        key = (case.id, unit is not None and any(unit in units for units in case.parties.values()))
        found = self._acting.get(key)
        if found is None:
            found = self._acting[key] = acting_on(conn, self.viewer.actor_on(case.task_force_code), case.id,
                                                  case.parties, self.cases.clock.now())
        return found

    def forget_acting(self, case_id: int) -> None:
        """The case's assignment changed: how the viewer acts on it is asked again."""
        for key in [k for k in self._acting if k[0] == case_id]:
            del self._acting[key]

    def allowed(self, conn: Connection, case: CaseRow | CaseRecord) -> list[str]:
        """What the viewer may fire now (guards that need no input already judged)."""
        return self.cases.open_events(conn, case, self.acting(conn, case).actor)

    def allowed_as_unit(self, conn: Connection, case: CaseRow | CaseRecord) -> list[str]:
        """What the viewer's unit may fire now, whoever in the unit the case is assigned to."""
        return self.cases.open_events(conn, case, self.viewer.actor_on(case.task_force_code))

    def refused_now(self, conn: Connection, case: CaseRow | CaseRecord) -> list[tuple[str, str]]:
        """Events the viewer's roles allow in this state that a guard refuses for now, with its reason."""
        return [(name, refused) for name, refused in
                self.cases.judged_events(conn, case, self.viewer.actor_on(case.task_force_code)) if refused]

    def start(self, conn: Connection, *, workflow: str, title: str, description: str = "",
              parties: Mapping[str, list[str]] | None = None, payload: Mapping[str, Any] | None = None,
              version: int | None = None) -> CaseRow:
        """Open a case in the viewer's own task force."""
        return self.cases.start(conn, task_force=self.viewer.task_force, workflow=workflow,
                                actor=self.viewer.actor_on(self.viewer.task_force), title=title,
                                description=description, parties=parties, payload=payload, version=version)

    def fire(self, conn: Connection, case_id: int, event: str, payload: Mapping[str, Any] | None = None,
             *, expected_version: int | None = None) -> CaseRow:
        case = self.load(conn, case_id)
        acting = self.acting(conn, case)
        try:
            return self.cases.fire(conn, case, event, acting.actor, payload, expected_version=expected_version,
                                   note=acting.note())
        except RoleNotHeld:
            if acting.blocked_by is None:
                raise
            raise NotAssignee(acting.refusal_en(), acting.refusal_zh(), case_id=case.id, event=event,
                              assignee=f"user:{acting.blocked_by.user_id}") from None

    def history(self, conn: Connection, case_id: int) -> list[HistoryRow]:
        self.load(conn, case_id)
        return cases_repo.history_of(conn, case_id)

    def may_contribute(self, conn: Connection, case: CaseRow) -> bool:
        return may_contribute(self.viewer, case, self.machine(conn, case).definition)
