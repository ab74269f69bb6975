"""Every SQL statement figures need: the cases of a selection, links, and unique case keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exc, insert, select

from db.models import Case, CaseKey, CaseLink, CaseParty, Definition

cases_t = Case.__table__
defs_t = Definition.__table__
parties_t = CaseParty.__table__
links_t = CaseLink.__table__
keys_t = CaseKey.__table__


@dataclass(frozen=True, slots=True)
class Selected:
    id: int
    state: str
    closed: bool
    data: dict[str, Any]
    parties: dict[str, list[str]]
    created_at: datetime


def selected(conn: Connection, *, task_force: str, workflow: str, states: Iterable[str] | None = None,
             closed: bool | None = None, party_role: str | None = None, units: Iterable[str] | None = None,
             ids: Iterable[int] | None = None) -> list[Selected]:
    """The cases of `workflow` (any version) in the task force, narrowed in SQL by state, open or
    closed, a party role (held by one of `units`, when given) and a set of ids."""
    q = (select(cases_t.c.id, cases_t.c.state, cases_t.c.closed, cases_t.c.data, cases_t.c.parties,
                cases_t.c.created_at)
         .join(defs_t, defs_t.c.id == cases_t.c.definition_id)
         .where(cases_t.c.task_force_code == task_force, defs_t.c.name == workflow))
    if states is not None:
        q = q.where(cases_t.c.state.in_(sorted(states)))
    if closed is not None:
        q = q.where(cases_t.c.closed == closed)
    if ids is not None:
        q = q.where(cases_t.c.id.in_(list(ids)))
    if party_role is not None:
        held = select(parties_t.c.case_id).where(parties_t.c.role == party_role)
        if units is not None:
            held = held.where(parties_t.c.unit_code.in_(list(units)))
        q = q.where(cases_t.c.id.in_(held))
    return [Selected(*r) for r in conn.execute(q.order_by(cases_t.c.id))]


def linked_ids(conn: Connection, case_id: int, kind: str, direction: str) -> list[int]:
    """Cases `case_id` links to by `kind` (direction from), or that link to it (to)."""
    if direction == "from":
        q = select(links_t.c.to_case_id).where(links_t.c.from_case_id == case_id)
    else:
        q = select(links_t.c.from_case_id).where(links_t.c.to_case_id == case_id)
    return list(conn.execute(q.where(links_t.c.kind == kind)).scalars())


def claim_key(conn: Connection, *, task_force: str, workflow: str, key: str, case_id: int) -> str | None:
    """Write the key row; None when claimed, else the number of the case that already holds it. The
    insert runs in a savepoint so a refusal leaves the caller's transaction usable (PostgreSQL aborts
    a transaction on a failed statement); a concurrent creation waits on the key and then fails."""
    try:
        with conn.begin_nested():
            conn.execute(insert(keys_t).values(task_force_code=task_force, workflow=workflow, key=key,
                                               case_id=case_id))
    except exc.IntegrityError:
        holder = conn.execute(select(cases_t.c.number).join(keys_t, keys_t.c.case_id == cases_t.c.id)
                              .where(keys_t.c.task_force_code == task_force, keys_t.c.workflow == workflow,
                                     keys_t.c.key == key)).scalar()
        return holder or "?"
    return None
