"""Load a task force's organisation (jurisdictions, units, positions, roles) from YAML.

Idempotent: loading the same file twice changes nothing; a changed file updates in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from db.models import Jurisdiction, TaskForce, TaskForcePosition, TaskForceUnit, Unit
from engine import schema
from engine.errors import DefinitionError
from engine.loader import NAME_RE, content_hash, parse_yaml
from engine.schema.organisation import POSITIONS  # one list of each, in the schema
from engine.schema.organisation import UNIT_KINDS as _UNIT_KINDS

UNIT_KINDS = frozenset(_UNIT_KINDS)


@dataclass(frozen=True)
class Organisation:
    code: str
    task_force: dict[str, Any]
    roles: list[dict[str, str]]
    jurisdictions: list[dict[str, Any]]  # flattened, parents first
    units: list[dict[str, Any]]
    positions: list[dict[str, Any]]
    content_hash: str
    source: str

    @property
    def role_codes(self) -> frozenset[str]:
        return frozenset(r["code"] for r in self.roles)


def parse_organisation(path: Path) -> Organisation:
    source = str(path)
    doc = parse_yaml(path.read_text(encoding="utf-8"), source)
    schema.refuse("organisation", doc, source)

    def fail(node: Any, problem: str):
        raise DefinitionError(source, getattr(node, "line", None), problem)

    if not isinstance(doc, dict):
        fail(doc, "an organisation file must be a mapping")
    for key in ("task_force", "roles", "jurisdictions", "units", "positions"):
        if key not in doc:
            fail(doc, f"missing {key!r}")
    tf = doc["task_force"]
    for key in ("code", "name", "short_name", "doc_prefix", "office_hosts"):
        if not tf.get(key):
            fail(tf, f"task_force is missing {key!r}")
    if not NAME_RE.match(tf["code"]):
        fail(tf, f"task force code {tf['code']!r} must match {NAME_RE.pattern}")

    roles = []
    for r in doc["roles"]:
        if not isinstance(r, dict) or not NAME_RE.match(str(r.get("code", ""))):
            fail(r, "each role needs a code matching " + NAME_RE.pattern)
        roles.append({"code": r["code"], "title": str(r.get("title", r["code"]))})

    flat: list[dict[str, Any]] = []

    def walk(nodes: Any, parent: str | None, top: str | None) -> None:
        for n in nodes or []:
            for key in ("code", "name", "level"):
                if not n.get(key):
                    fail(n, f"a jurisdiction is missing {key!r}")
            # The top-level members (cities, new areas) are the children of the root.
            own_top = top if top else (n["code"] if parent is not None else None)
            flat.append({"code": n["code"], "name": n["name"], "level": n["level"], "parent_code": parent,
                         "top_code": own_top})
            walk(n.get("children"), n["code"], own_top)

    walk(doc["jurisdictions"], None, None)
    jcodes = [j["code"] for j in flat]
    if len(set(jcodes)) != len(jcodes):
        fail(doc["jurisdictions"], "jurisdiction codes must be unique")

    units = []
    seen: set[str] = set()
    for u in doc["units"]:
        for key in ("code", "name", "kind", "jurisdiction"):
            if not u.get(key):
                fail(u, f"a unit is missing {key!r}")
        if u["code"] in seen:
            fail(u, f"duplicate unit {u['code']!r}")
        seen.add(u["code"])
        if u["kind"] not in UNIT_KINDS:
            fail(u, f"unit {u['code']!r} has kind {u['kind']!r}; kinds: {', '.join(sorted(UNIT_KINDS))}")
        if u["jurisdiction"] not in jcodes:
            fail(u, f"unit {u['code']!r} is in unknown jurisdiction {u['jurisdiction']!r}")
        units.append({"code": u["code"], "name": u["name"], "short_name": u.get("short_name") or u["name"],
                      "kind": u["kind"], "jurisdiction_code": u["jurisdiction"],
                      "duties": (u.get("duties") or "").strip() or None, "member": bool(u.get("member", True))})
    for host in tf["office_hosts"]:
        if host not in seen:
            fail(tf, f"office host {host!r} is not a unit")

    positions = []
    for i, p in enumerate(doc["positions"], start=1):
        if p.get("position") not in POSITIONS:
            fail(p, f"position {p.get('position')!r} is not one of {', '.join(POSITIONS)}")
        if p.get("unit") not in seen:
            fail(p, f"position names unknown unit {p.get('unit')!r}")
        positions.append({"ordinal": i, "position": p["position"], "unit_code": p["unit"],
                          "holder": str(p.get("holder", ""))})

    return Organisation(
        code=tf["code"],
        task_force={k: tf[k] for k in ("code", "name", "short_name", "doc_prefix")}
        | {"office_hosts": list(tf["office_hosts"])},
        roles=roles, jurisdictions=flat, units=units, positions=positions,
        content_hash=content_hash(_plain(doc)), source=source,
    )


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


def load_organisation(conn: Connection, org: Organisation) -> bool:
    """Write the organisation; returns False when it was already loaded unchanged."""
    tf_t = TaskForce.__table__
    existing = conn.execute(select(tf_t.c.content_hash).where(tf_t.c.code == org.code)).scalar_one_or_none()
    if existing == org.content_hash:
        return False
    _upsert(conn, Jurisdiction.__table__, "code", org.jurisdictions)
    _upsert(conn, Unit.__table__, "code", [{k: v for k, v in u.items() if k != "member"} for u in org.units])
    row = org.task_force | {"roles": org.roles, "content_hash": org.content_hash}
    _upsert(conn, tf_t, "code", [row])
    tfu = TaskForceUnit.__table__
    conn.execute(delete(tfu).where(tfu.c.task_force_code == org.code))
    conn.execute(insert(tfu), [{"task_force_code": org.code, "unit_code": u["code"], "member": u["member"]}
                               for u in org.units])
    pos = TaskForcePosition.__table__
    conn.execute(delete(pos).where(pos.c.task_force_code == org.code))
    conn.execute(insert(pos), [p | {"task_force_code": org.code} for p in org.positions])
    return True


def _upsert(conn: Connection, table, key: str, rows: list[dict[str, Any]]) -> None:
    have = {r[0]: dict(r._mapping) for r in conn.execute(select(table.c[key], *[table.c[c] for c in rows[0] if c != key]))} if rows else {}
    for row in rows:
        current = have.get(row[key])
        if current is None:
            conn.execute(insert(table), row)
        elif any(current.get(c) != v for c, v in row.items()):
            conn.execute(update(table).where(table.c[key] == row[key]).values(**row))
