"""我的待办: every open case where a viewer is awaited to act now, with what there is to do.

A viewer can act on a case when an event from the case's state is open to a role it holds there: a
party role its unit holds on the case, or an organisation role it holds in the case's task force.
Events only the clock fires (role `system`) are not people's work, and neither are the events the
task force declares optional (worklist.yaml, engine/awaited.py): a case whose only open events are
optional is not on the list — unless the viewer's unit owes the case's current due date, when every
event open to it is its work. Which (definition, state, role) triples open an awaited event is read
off each compiled machine once; the database then selects the candidate cases in one statement, and
guards that need no input (a closed window, a flag already set) are judged on each candidate, exactly
as the case page does before drawing a form.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from db.repositories import case_queries
from db.repositories import definitions as defs_repo
from db.repositories import time as time_repo
from db.repositories.case_queries import CaseRecord
from engine.access import CaseAccess
from engine.awaited import OptionalEvents, awaited, every_optional, optional_events
from engine.cases import Cases

CLOCK_ROLE = "system"


@dataclass(frozen=True)
class Actionable:
    """One case I am awaited to act on now: the awaited events, as names and as their titles, and the
    titles of the optional events also open to me."""

    case_id: int
    events: tuple[str, ...]
    titles: tuple[str, ...]
    also: tuple[str, ...] = ()
    record: CaseRecord | None = None


def _acting(cases: Cases, conn: Connection, viewer_task_force: str, org_roles: frozenset[str],
            optional: dict[str, OptionalEvents]):
    """(definition, state, party role) triples and (definition, state) pairs that open an awaited event to people."""
    party: list[tuple[int, str, str]] = []
    org: list[tuple[int, str]] = []
    owing: list[tuple[int, str]] = []  # states where people may act at all (optional events too)
    for d in defs_repo.list_all(conn):
        m = cases.machine(conn, d.id)
        spec = m.definition
        skip = optional.get(d.task_force_code, {})
        party_roles = [r for r, rs in spec.roles.items() if rs.kind == "party"]
        mine = (org_roles & {r for r, rs in spec.roles.items() if rs.kind == "org"}) - {CLOCK_ROLE} \
            if d.task_force_code == viewer_task_force else frozenset()
        for state in spec.states:
            if state in m.final:
                continue
            for role in party_roles:
                if awaited(m.allowed(state, frozenset({role})), spec.name, skip):
                    party.append((d.id, state, role))
            if mine and awaited(m.allowed(state, frozenset(mine)), spec.name, skip):
                org.append((d.id, state))
            if m.allowed(state, frozenset(party_roles) | frozenset(mine)):
                owing.append((d.id, state))
    return party, org, owing


def _split(events: list[str], record: CaseRecord, unit: str | None,
           optional: OptionalEvents) -> tuple[list[str], list[str]]:
    """(awaited, optional) of the events open to the viewer. On a case whose current due date the
    viewer's unit owes, every event open to it is awaited: the organiser of a meeting still collecting
    topics owes its holding, and proposing one is its work."""
    if record.due_role and unit in record.parties.get(record.due_role, ()):
        return events, []
    mine = awaited(events, record.workflow, optional)
    return mine, [e for e in events if e not in mine]


def awaited_events(conn: Connection, access: CaseAccess, record: CaseRecord,
                   optional: OptionalEvents | None = None) -> tuple[list[str], list[str]]:
    """(awaited, optional) events the viewer may fire on the case now, guards without input judged."""
    if optional is None:
        optional = optional_events(conn, record.task_force_code)
    # The unit's work, whoever in the unit it is assigned to: 我的待办 orders and marks it by 承办人.
    return _split(access.allowed_as_unit(conn, record), record, access.viewer.unit, optional)


def _unjudged(conn: Connection, access: CaseAccess, record: CaseRecord,
              optional: OptionalEvents) -> tuple[list[str], list[str]] | None:
    """The events the state and roles allow, guards not yet judged — when the case is surely on the
    list anyway (an awaited event with no guard to judge); None when only judging its guards can tell."""
    m = access.machine(conn, record)
    actor = access.viewer.actor_on(record.task_force_code)
    events, also = _split(m.allowed(record.state, actor.roles_on(record.parties)), record, access.viewer.unit,
                          optional)
    return (events, also) if any(not m.events[e].pre_guards for e in events) else None


def actionable(conn: Connection, access: CaseAccess, *, judge: bool = True) -> list[Actionable]:
    """Every open case where the viewer is awaited to act now, soonest due first.

    With `judge=False` a case that is on the list whatever its guards say (an awaited event without
    guards is open) keeps its events unjudged — a page judges only the lines it draws (`judged`), so
    a list of thousands costs no guard look-ups beyond the page shown."""
    viewer = access.viewer
    optional = every_optional(conn)
    party, org, owing = _acting(access.cases, conn, viewer.task_force, viewer.roles, optional)
    out = []
    for record in case_queries.actionable(conn, unit=viewer.unit, task_force=viewer.task_force, party=party,
                                          org=org, owing=owing):
        skip = optional.get(record.task_force_code, {})
        found = None if judge else _unjudged(conn, access, record, skip)
        events, also = found or awaited_events(conn, access, record, skip)
        if not events:
            continue
        out.append(_item(conn, access, record, events, also))
    return out


def judged(conn: Connection, access: CaseAccess, items: list[Actionable]) -> list[Actionable]:
    """The same lines with their events' guards judged (for the lines a page draws)."""
    optional = every_optional(conn)
    out = []
    with time_repo.deadlines_read_ahead(conn, [a.case_id for a in items]):
        for a in items:
            events, also = awaited_events(conn, access, a.record, optional.get(a.record.task_force_code, {}))
            # Still on the list: an awaited event without guards was open (see _unjudged).
            out.append(_item(conn, access, a.record, events, also) if events else a)
    return out


def _item(conn: Connection, access: CaseAccess, record: CaseRecord, events: list[str], also: list[str]) -> Actionable:
    d = access.machine(conn, record).definition
    return Actionable(record.id, tuple(events), tuple(d.events[e].title for e in events),
                      tuple(d.events[e].title for e in also), record)
