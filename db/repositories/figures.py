"""Every SQL statement figures need: the cases of a selection, links, and unique case keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, exc, func, insert, null, or_, select

from db.models import Case, CaseKey, CaseLink, CaseParty, Definition

cases_t = Case.__table__
defs_t = Definition.__table__
parties_t = CaseParty.__table__
links_t = CaseLink.__table__
keys_t = CaseKey.__table__


@dataclass(frozen=True, slots=True)
class Narrowing:
    """Which cases a selection holds, as SQL can judge it."""

    task_force: str
    workflow: str
    states: frozenset[str] | None = None
    closed: bool | None = None
    party_role: str | None = None
    units: tuple[str, ...] | None = None  # one of these holds party_role
    ids: tuple[int, ...] | None = None
    field_prefixes: tuple[str, tuple[str, ...]] | None = None  # a field's text starts with one of these
    created: tuple[datetime, datetime] | None = None  # opened within [since, until)


def _ids(n: Narrowing):
    return _narrowed(select(cases_t.c.id), n)


def _narrowed(q, n: Narrowing):
    """`q` over the cases of `workflow` (any version) in the task force, narrowed by state, open or
    closed, a party role (held by one of `units`, when given), a set of ids, a recorded field whose text
    starts with a prefix (a period: "2026" takes "2026-03") and a window of creation."""
    versions = select(defs_t.c.id).where(defs_t.c.task_force_code == n.task_force, defs_t.c.name == n.workflow)
    q = q.where(cases_t.c.task_force_code == n.task_force, cases_t.c.definition_id.in_(versions))
    if n.states is not None:
        q = q.where(cases_t.c.state.in_(sorted(n.states)))
    if n.closed is not None:
        q = q.where(cases_t.c.closed == n.closed)
    if n.ids is not None:
        q = q.where(cases_t.c.id.in_(list(n.ids)))
    if n.field_prefixes is not None:
        # A prefix as a range of texts ("2026" ≤ v < "2027"), so an index on the field could serve it.
        name, prefixes = n.field_prefixes
        text_of = cases_t.c.data[name].as_string()
        q = q.where(or_(*(and_(text_of >= p, text_of < p[:-1] + chr(ord(p[-1]) + 1)) for p in prefixes if p)))
    if n.created is not None:
        q = q.where(cases_t.c.created_at >= n.created[0], cases_t.c.created_at < n.created[1])
    if n.party_role is not None:
        held = select(parties_t.c.case_id).where(parties_t.c.role == n.party_role)
        if n.units is not None:
            held = held.where(parties_t.c.unit_code.in_(list(n.units)))
        q = q.where(cases_t.c.id.in_(held))
    return q


def count(conn: Connection, n: Narrowing, by: str | None = None) -> int | dict[str, int]:
    """How many cases; by a party role: unit → how many of them it holds that role on."""
    ids = _ids(n).subquery()
    if by is None:
        return conn.execute(select(func.count()).select_from(ids)).scalar_one()
    q = (select(parties_t.c.unit_code, func.count(func.distinct(parties_t.c.case_id)))
         .where(parties_t.c.role == by, parties_t.c.case_id.in_(select(ids.c.id)))
         .group_by(parties_t.c.unit_code).order_by(parties_t.c.unit_code))
    return dict(conn.execute(q).all())


def rows(conn: Connection, n: Narrowing, fields: tuple[str, ...], role: str | None) -> list[tuple]:
    """(case id, unit in `role` or None, then the recorded value of each of `fields`) of each selected
    case — once per unit holding `role`, once with None when none does. One query however many figures
    fold the selection; each value is read out of the JSON alone, never the whole case data."""
    values = [cases_t.c.data[f].as_string() for f in fields]
    if role is None:
        q = select(cases_t.c.id, null(), *values)
    else:
        q = select(cases_t.c.id, parties_t.c.unit_code, *values).select_from(cases_t).outerjoin(
            parties_t, and_(parties_t.c.case_id == cases_t.c.id, parties_t.c.role == role))
    return list(conn.execute(_narrowed(q, n)))


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


def cases_held(conn: Connection, n: Narrowing, role: str, unit: str | None) -> list[tuple]:
    """(unit, id, number, title, opened at) of the selected cases, once per unit holding `role` on it
    (only `unit`, when given)."""
    q = _narrowed(select(parties_t.c.unit_code, cases_t.c.id, cases_t.c.number, cases_t.c.title,
                         cases_t.c.created_at).select_from(cases_t).join(
        parties_t, and_(parties_t.c.case_id == cases_t.c.id, parties_t.c.role == role)), n)
    if unit is not None:
        q = q.where(parties_t.c.unit_code == unit)
    return conn.execute(q.distinct().order_by(cases_t.c.created_at, cases_t.c.id)).all()
