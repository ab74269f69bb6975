"""我的待办: every open case where a viewer can act now, with what there is to do.

A viewer can act on a case when an event from the case's state is open to a role it holds there: a
party role its unit holds on the case, or an organisation role it holds in the case's task force.
Events only the clock fires (role `system`) are not people's work. Which (definition, state, role)
triples open an event is read off each compiled machine once; the database then selects the
candidate cases in one statement, and guards that need no input (a closed window, a flag already
set) are judged on each candidate, exactly as the case page does before drawing a form.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from db.repositories import case_queries
from db.repositories import definitions as defs_repo
from engine.access import CaseAccess
from engine.cases import Cases

CLOCK_ROLE = "system"


@dataclass(frozen=True)
class Actionable:
    """One case I can act on now: the events open to me, as names and as their titles."""

    case_id: int
    events: tuple[str, ...]
    titles: tuple[str, ...]


def _acting(cases: Cases, conn: Connection, viewer_task_force: str, org_roles: frozenset[str]):
    """(definition, state, party role) triples and (definition, state) pairs that open an event to people."""
    party: list[tuple[int, str, str]] = []
    org: list[tuple[int, str]] = []
    for d in defs_repo.list_all(conn):
        m = cases.machine(conn, d.id)
        spec = m.definition
        party_roles = [r for r, rs in spec.roles.items() if rs.kind == "party"]
        mine = (org_roles & {r for r, rs in spec.roles.items() if rs.kind == "org"}) - {CLOCK_ROLE} \
            if d.task_force_code == viewer_task_force else frozenset()
        for state in spec.states:
            if state in m.final:
                continue
            for role in party_roles:
                if m.allowed(state, frozenset({role})):
                    party.append((d.id, state, role))
            if mine and m.allowed(state, frozenset(mine)):
                org.append((d.id, state))
    return party, org


def actionable(conn: Connection, access: CaseAccess) -> list[Actionable]:
    """Every open case where the viewer can act now, soonest due first."""
    viewer = access.viewer
    party, org = _acting(access.cases, conn, viewer.task_force, viewer.roles)
    out = []
    for record in case_queries.actionable(conn, unit=viewer.unit, task_force=viewer.task_force, party=party,
                                          org=org):
        # The unit's work, whoever in the unit it is assigned to: 我的待办 orders and marks it by 承办人.
        events = access.allowed_as_unit(conn, record)
        if not events:
            continue
        d = access.machine(conn, record).definition
        out.append(Actionable(record.id, tuple(events), tuple(d.events[e].title for e in events)))
    return out
