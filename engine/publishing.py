"""Publish workflow definitions: a (task force, name, version) once published never changes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from db.repositories import definitions as repo
from engine.awaited import FILE as WORKLIST_FILE
from engine.awaited import parse_optional, store_optional
from engine.clock import Clock
from engine.definition import Definition, Invocation
from engine.errors import DefinitionError
from engine.figures import FiguresSpec, check_uses, parse_figures, store_figures
from engine.loader import load_definition_file
from engine.naming import NamingRules, parse_naming, store_naming
from engine.notices import Rule, parse_notifications, store_rules
from engine.organisation import Organisation, load_organisation, parse_organisation


@dataclass(frozen=True)
class TaskForceFiles:
    organisation: Organisation
    definitions: list[Definition]
    notifications: list[Rule]
    naming: NamingRules
    optional: dict[str, frozenset[str]]  # worklist.yaml: events that put no case on 我的待办
    figures: FiguresSpec = FiguresSpec()


def read_task_force(folder: Path) -> TaskForceFiles:
    """Parse and check a task force folder: organisation.yaml, definitions/*.yaml, notifications.yaml,
    naming.yaml (who may name which units into which party role), worklist.yaml (engine/awaited.py)
    and figures.yaml (figures across cases, and which cases are unique: engine/figures.py)."""
    org = parse_organisation(folder / "organisation.yaml")
    defs = [load_definition_file(p, org_roles=org.role_codes)
            for p in sorted((folder / "definitions").glob("*.yaml"))]
    seen: set[tuple[str, int]] = set()
    for d in defs:
        if d.key in seen:
            raise DefinitionError(d.source, None, f"{d.name} version {d.version} is defined twice")
        seen.add(d.key)
    latest = {d.name: d for d in sorted(defs, key=lambda d: d.version)}
    for d in defs:
        check_references(d, latest, org)
    rules = parse_notifications(folder / "notifications.yaml", latest, frozenset(org.role_codes))
    naming = parse_naming(folder / "naming.yaml", defs, org)
    figures = parse_figures(folder / "figures.yaml", defs, (u["code"] for u in org.units))
    check_uses(figures, defs)
    return TaskForceFiles(org, defs, rules, naming, parse_optional(folder / WORKLIST_FILE, defs), figures)


def check_references(d: Definition, latest: dict[str, Definition], org: Organisation) -> None:
    """What one definition says of another (the ladder it opens) must hold in this task force."""
    for dl in d.deadlines.values():
        sup = dl.supervise
        if sup is None:
            continue
        other = latest.get(sup.workflow)
        if other is None:
            raise DefinitionError(d.source, None, f"deadline {dl.name!r} opens unknown workflow {sup.workflow!r}")
        if "system" not in other.create.roles:
            raise DefinitionError(d.source, None, f"workflow {sup.workflow!r} cannot be opened by the clock "
                                                  "(its create roles lack 'system')")
        for new_role, _ in sup.parties:
            if new_role not in other.roles or other.roles[new_role].kind != "party":
                raise DefinitionError(d.source, None, f"{sup.workflow!r} has no party role {new_role!r}")
        cancel = other.events.get(sup.cancel)
        if cancel is None or "system" not in cancel.roles:
            raise DefinitionError(d.source, None, f"{sup.workflow!r} has no event {sup.cancel!r} the clock may fire")
    _check_cross(d, latest)
    if "system" in d.roles and "system" not in org.role_codes:
        raise DefinitionError(d.source, None, "the organisation defines no 'system' role for the clock")


def publish(conn: Connection, task_force: str, definition: Definition, clock: Clock) -> tuple[int, bool]:
    """Record a definition version; (id, True) when new, (id, False) when already there unchanged."""
    found = repo.find(conn, task_force, definition.name, definition.version)
    if found is not None:
        if found.content_hash != definition.content_hash:
            raise DefinitionError(definition.source, None,
                                  f"{definition.name} version {definition.version} is already published with "
                                  "different content; publish a new version instead of editing this one")
        return found.id, False
    new_id = repo.insert_definition(
        conn, task_force=task_force, name=definition.name, version=definition.version, title=definition.title,
        content_hash=definition.content_hash, spec=definition.raw, source_path=str(definition.source),
        at=clock.now())
    return new_id, True


def load_task_force(conn: Connection, folder: Path, clock: Clock) -> dict[str, int]:
    """Organisation and every definition of one folder, in the caller's transaction."""
    files = read_task_force(folder)
    changed = load_organisation(conn, files.organisation)
    published = sum(publish(conn, files.organisation.code, d, clock)[1] for d in files.definitions)
    store_rules(conn, files.organisation.code, files.notifications)
    store_naming(conn, files.organisation.code, files.naming)
    store_optional(conn, files.organisation.code, files.optional)
    store_figures(conn, files.organisation.code, files.figures)
    return {"organisation_changed": int(changed), "definitions_published": published,
            "definitions": len(files.definitions)}


def _check_cross(d: Definition, latest: dict[str, Definition]) -> None:
    """Effects and guards that name another workflow must fit it: its create fields and party roles,
    its events the clock may fire and their fields."""
    invocations = [("create", inv) for inv in d.create.effects]
    invocations += [(e.name, inv) for e in d.events.values() for inv in (*e.effects, *e.guards)]
    for where, inv in invocations:
        if inv.kwargs().get("workflow") is not None:
            _check_one(d, where, inv, latest)


def _check_one(d: Definition, where: str, inv: Invocation, latest: dict[str, Definition]) -> None:
    args = inv.kwargs()
    name = args["workflow"]

    def fail(problem: str) -> None:
        raise DefinitionError(d.source, None, f"{where}: {inv.name} {problem}")

    other = latest.get(name)
    if other is None:
        fail(f"names unknown workflow {name!r}")
    party_roles = {r for r, spec in other.roles.items() if spec.kind == "party"}
    if inv.name == "spawn":
        if "system" not in other.create.roles:
            fail(f"opens {name!r}, which the system may not create (its create roles lack 'system')")
        create_fields = {f.name for f in other.create.fields}
        for key in (*(args.get("fields") or {}), *(args.get("constants") or {})):
            if key not in create_fields:
                fail(f"sets {key!r}, which is not a create field of {name!r}")
        for role in (*(args.get("parties") or {}), *(args.get("inherit") or {})):
            if role not in party_roles:
                fail(f"gives {name!r} the party role {role!r}, which it does not declare")
        for here in (args.get("inherit") or {}).values():
            if here not in d.roles or d.roles[here].kind != "party":
                fail(f"inherits from {here!r}, which is not a party role here")
    event = args.get("event")
    if event is not None:
        spec = other.events.get(event)
        if spec is None or "system" not in spec.roles:
            fail(f"needs {name!r} to have an event {event!r} the clock may fire")
        fields = {f.name for f in spec.fields}
        for key in args.get("payload") or {}:
            if key not in fields:
                fail(f"sends {key!r}, which is not a field of {name}.{event}")
