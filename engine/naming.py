"""Who may name which units into which party role of a case — declared per task force, checked
wherever a party is set.

A task force folder may hold `naming.yaml`:

    naming:
      referral:                        # a workflow of the task force
        referrer: {own_unit: true}     # only the acting unit itself (a person; the system is exempt)
        receiver:
          kinds: [government, department]   # unit kinds (organisation.yaml `kind`)
          member: true                 # only member units of the task force (`member: true`)
          through: [refer, reassign]   # only these events set it (`create`: opening the case)
        coordinator: {kinds: [office], through: [report_to_office, object]}
      pil_case:
        procuratorate: {kinds: [procuratorate], within: [gz]}   # jurisdictions, and everything below

`within` may name `@actor`: the acting unit's own jurisdiction and below. When the file is present,
every party role of every definition of the task force needs a rule (an empty mapping allows any
unit of the task force); the loader also checks the rules against what the definitions themselves
do — an event that sets a role must be in its `through`, the constant units an effect adds must fit
the rule, a role a spawned case or a supervision ladder inherits must allow the kinds it inherits.

Whatever the file says, a unit of another task force is refused everywhere a unit is named.
Rules are stored at `gongzhi init` (settings `naming:<task force>`) and re-read by a running server
within 30 seconds, so they also bind the cases running on published versions that never change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from db.models import Jurisdiction, TaskForceUnit, Unit
from db.repositories import time as trepo
from engine.actors import Actor
from engine.definition import Definition, FieldSpec
from engine.errors import BadPayload, DefinitionError, UnitNotAllowed
from engine.loader import parse_yaml
from engine.organisation import UNIT_KINDS, Organisation

SETTING_PREFIX = "naming:"
CREATE = "create"  # the pseudo-event of `through`: opening the case (its `parties` and create fields)
ACTOR_JURISDICTION = "@actor"
RULE_KEYS = frozenset({"kinds", "member", "within", "own_unit", "through"})
KIND_ZH = {"government": "人民政府", "department": "职能部门", "procuratorate": "检察机关", "office": "专班办公室",
           "other": "其他单位"}
# Effects that put units into a party role, and where they take them from.
FIELD_EFFECTS = ("set_party", "add_party")  # {role, field}: a payload field
ACTOR_EFFECTS = ("actor_as_party",)  # {role}: the acting unit
CONSTANT_EFFECTS = ("add_units",)  # {role, units}: units named in the definition
REFRESH_SECONDS = 30.0


@dataclass(frozen=True)
class RoleRule:
    kinds: frozenset[str] | None = None
    member: bool = False
    within: tuple[str, ...] = ()
    own_unit: bool = False
    through: frozenset[str] | None = None

    def as_data(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.kinds is not None:
            out["kinds"] = sorted(self.kinds)
        if self.member:
            out["member"] = True
        if self.within:
            out["within"] = list(self.within)
        if self.own_unit:
            out["own_unit"] = True
        if self.through is not None:
            out["through"] = sorted(self.through)
        return out

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RoleRule:
        return cls(frozenset(data["kinds"]) if "kinds" in data else None, bool(data.get("member")),
                   tuple(data.get("within") or ()), bool(data.get("own_unit")),
                   frozenset(data["through"]) if "through" in data else None)


@dataclass(frozen=True)
class NamingRules:
    """workflow → party role → rule; `declared` when the task force has a naming.yaml."""

    rules: Mapping[str, Mapping[str, RoleRule]] = field(default_factory=dict)
    declared: bool = False

    def rule(self, workflow: str, role: str) -> RoleRule | None:
        return self.rules.get(workflow, {}).get(role)

    def as_data(self) -> dict[str, Any]:
        return {"declared": self.declared,
                "rules": {w: {r: rule.as_data() for r, rule in roles.items()} for w, roles in self.rules.items()}}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> NamingRules:
        return cls({w: {r: RoleRule.from_data(x) for r, x in roles.items()} for w, roles in data.get("rules", {}).items()},
                   bool(data.get("declared")))


# --- where a definition sets parties (the same for every task force; computed once per definition) ---


@dataclass(frozen=True)
class Places:
    """Per definition: the party roles set at opening and by each event, from a field or the actor."""

    create_fields: tuple[tuple[str, str], ...]  # (create field, role)
    create_actor: tuple[str, ...]  # roles the opening actor's unit takes
    event_fields: Mapping[str, tuple[tuple[str, str], ...]]
    event_actor: Mapping[str, tuple[str, ...]]


def places(d: Definition) -> Places:
    def split(invocations) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        fields, actor = [], []
        for inv in invocations:
            args = inv.kwargs()
            if inv.name in FIELD_EFFECTS:
                fields.append((args["field"], args["role"]))
            elif inv.name in ACTOR_EFFECTS:
                actor.append(args["role"])
        return tuple(fields), tuple(actor)

    cf, ca = split(d.create.effects)
    ef, ea = {}, {}
    for e in d.events.values():
        f, a = split(e.effects)
        if f:
            ef[e.name] = f
        if a:
            ea[e.name] = a
    return Places(cf, ca, ef, ea)


@dataclass(frozen=True, slots=True)
class SpawnSet:
    """A payload key of an event that a `spawn` turns into a party of the case it opens."""

    key: str
    items: str | None  # the list of records the key is read from, if any
    only: tuple[tuple[str, Any], ...]
    child: Definition
    role: str


def spawn_sets(d: Definition, child_of) -> dict[str, tuple[SpawnSet, ...]]:
    """event → the payload keys its spawns put into the opened cases' party roles. `child_of(name)`
    gives the latest definition of a workflow of the task force (or None)."""
    out: dict[str, tuple[SpawnSet, ...]] = {}
    for e in d.events.values():
        found = []
        for inv in e.effects:
            if inv.name != "spawn":
                continue
            args = inv.kwargs()
            child = child_of(args["workflow"])
            if child is None:
                continue
            create_sets = dict(places(child).create_fields)
            mapped = [(create_sets[f], key) for f, key in (args.get("fields") or {}).items() if f in create_sets]
            mapped += list((args.get("parties") or {}).items())
            only = tuple(sorted((args.get("only") or {}).items()))
            found += [SpawnSet(key, args.get("items"), only, child, role) for role, key in mapped
                      if not str(key).startswith("@")]
        if found:
            out[e.name] = tuple(found)
    return out


def setters(d: Definition) -> dict[str, set[str]]:
    """role → the events (and `create`) that set it, by any effect (fields, the actor, constants)."""
    out: dict[str, set[str]] = {}
    for where, invocations in [(CREATE, d.create.effects), *((e.name, e.effects) for e in d.events.values())]:
        for inv in invocations:
            if inv.name in (*FIELD_EFFECTS, *ACTOR_EFFECTS, *CONSTANT_EFFECTS):
                out.setdefault(inv.kwargs()["role"], set()).add(where)
    return out


# --- the file -----------------------------------------------------------------------------------


def parse_naming(path: Path, definitions: list[Definition], org: Organisation) -> NamingRules:
    """Read and check a task force's naming.yaml against all its definitions and its organisation."""
    if not path.is_file():
        return NamingRules()
    source = str(path)
    doc = parse_yaml(path.read_text(encoding="utf-8"), source) or {}
    if not isinstance(doc, dict) or set(doc) - {"naming"}:
        raise DefinitionError(source, None, "a naming file holds one key, `naming:`, workflow → party role → rule")
    by_name: dict[str, list[Definition]] = {}
    for d in definitions:
        by_name.setdefault(d.name, []).append(d)
    jurisdictions = {j["code"] for j in org.jurisdictions}
    units = {u["code"]: u for u in org.units}
    parsed: dict[str, dict[str, RoleRule]] = {}
    workflows = doc.get("naming") or {}
    if not isinstance(workflows, dict):
        raise DefinitionError(source, getattr(workflows, "line", None), "`naming:` maps workflows to their roles")
    for workflow, roles in workflows.items():
        line = getattr(roles, "line", None)
        if workflow not in by_name:
            raise DefinitionError(source, line, f"unknown workflow {workflow!r} — known: {', '.join(sorted(by_name))}")
        party_roles = {r for d in by_name[workflow] for r, s in d.roles.items() if s.kind == "party"}
        events = {e for d in by_name[workflow] for e in d.events}
        if not isinstance(roles, dict):
            raise DefinitionError(source, line, f"{workflow}: map each party role to its rule")
        parsed[workflow] = {}
        for role, node in roles.items():
            rline = getattr(node, "line", line)

            def fail(problem: str, rline=rline, role=role, workflow=workflow) -> None:
                raise DefinitionError(source, rline, f"{workflow}.{role}: {problem}")

            if role not in party_roles:
                fail(f"no party role {role!r} in {workflow} — its party roles: {', '.join(sorted(party_roles))}")
            node = node or {}
            if not isinstance(node, dict):
                fail("a rule is a mapping (kinds, member, within, own_unit, through), or {} for any unit")
            unknown = set(node) - RULE_KEYS
            if unknown:
                fail(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} — allowed: {', '.join(sorted(RULE_KEYS))}")
            kinds = node.get("kinds")
            if kinds is not None and (not isinstance(kinds, list) or not kinds or set(kinds) - UNIT_KINDS):
                fail(f"kinds must list unit kinds ({', '.join(sorted(UNIT_KINDS))})")
            within = node.get("within") or []
            if not isinstance(within, list) or [w for w in within if w not in jurisdictions | {ACTOR_JURISDICTION}]:
                fail(f"within lists jurisdiction codes of the organisation, or {ACTOR_JURISDICTION}")
            through = node.get("through")
            if through is not None and (not isinstance(through, list) or [t for t in through
                                                                             if t not in events | {CREATE}]):
                fail(f"through lists events of {workflow} (or {CREATE}) — its events: {', '.join(sorted(events))}")
            for flag in ("member", "own_unit"):
                if not isinstance(node.get(flag, False), bool):
                    fail(f"write `{flag}: true` or leave it out")
            parsed[workflow][role] = RoleRule(frozenset(kinds) if kinds is not None else None,
                                              bool(node.get("member")), tuple(within), bool(node.get("own_unit")),
                                              frozenset(through) if through is not None else None)
    rules = NamingRules(parsed, True)
    _check_against(source, definitions, rules, units)
    return rules


def _check_against(source: str, definitions: list[Definition], rules: NamingRules,
                   units: Mapping[str, Mapping[str, Any]]) -> None:
    """Every party role has a rule, and the rules allow what the definitions themselves do."""
    latest = {d.name: d for d in sorted(definitions, key=lambda d: d.version)}
    for d in definitions:
        def fail(problem: str, d=d) -> None:
            raise DefinitionError(source, None, f"{d.name} v{d.version}: {problem}")

        for role, spec in d.roles.items():
            if spec.kind == "party" and rules.rule(d.name, role) is None:
                fail(f"party role {role!r} has no rule (write `{role}: {{}}` to allow any unit of the task force)")
        for role, where in setters(d).items():
            rule = rules.rule(d.name, role)
            if rule is not None and rule.through is not None and where - rule.through:
                fail(f"{', '.join(sorted(where - rule.through))} sets {role!r}, which its rule lets only "
                     f"{', '.join(sorted(rule.through))} set")
        for inv in [*d.create.effects, *(i for e in d.events.values() for i in e.effects)]:
            args = inv.kwargs()
            if inv.name in CONSTANT_EFFECTS:
                rule = rules.rule(d.name, args["role"])
                for code in args.get("units") or []:
                    unit = units.get(code)
                    if unit is None:
                        fail(f"{inv.name} names {code!r}, which is not a unit of this task force")
                    problem = rule and _static_problem(rule, unit)
                    if problem:
                        fail(f"{inv.name} puts {code!r} in {args['role']!r}, which its rule refuses: {problem}")
            if inv.name == "spawn" and args.get("workflow") in latest:
                child = latest[args["workflow"]]
                opened = {*(args.get("parties") or {}), *(args.get("inherit") or {})}
                create_sets = dict(places(child).create_fields)
                opened |= {create_sets[f] for f in args.get("fields") or {} if f in create_sets}
                for role in opened:
                    rule = rules.rule(child.name, role)
                    if rule is not None and rule.through is not None and CREATE not in rule.through:
                        fail(f"spawn opens {child.name} with {role!r}, which its rule lets only "
                             f"{', '.join(sorted(rule.through))} set")
                # A person's event: a copied unit the child refuses is refused with the event, so the
                # kinds need only meet; the clock's ladder below has nobody to refuse, so they must fit.
                for role, here in (args.get("inherit") or {}).items():
                    _check_inherits(fail, rules, d.name, here, child.name, role, strict=False)
        # Work that belongs to no one: a clock started when the case opens, owed by a role that only
        # later events may fill, would run on nobody's list (a running case is also refused at the event).
        opening = [*d.create.deadlines.start, *d.states[d.initial].deadlines.start]
        for name in opening:
            owner = d.deadlines[name].owner
            rule = rules.rule(d.name, owner) if owner else None
            if rule is not None and rule.through is not None and CREATE not in rule.through:
                fail(f"deadline {name!r} starts when the case opens and is owed by {owner!r}, which its rule "
                     f"lets only {', '.join(sorted(rule.through))} set: nobody would owe it")
        for dl in d.deadlines.values():
            if dl.supervise is not None:
                for role, here in dl.supervise.parties:
                    _check_inherits(fail, rules, d.name, here, dl.supervise.workflow, role, strict=True)


def _check_inherits(fail, rules: NamingRules, workflow: str, here: str, other: str, role: str, *,
                    strict: bool) -> None:
    """A role copied into another case must fit that case's rule: strictly, its kinds cover every kind
    copied; otherwise they share one (else the copy could never succeed)."""
    theirs, ours = rules.rule(other, role), rules.rule(workflow, here)
    if theirs is None or theirs.kinds is None:
        return
    if ours is None or ours.kinds is None:
        if strict:
            fail(f"{other}.{role} (kinds {', '.join(sorted(theirs.kinds))}) is copied from {here!r}, which may "
                 "hold any kind")
        return
    if (ours.kinds - theirs.kinds) if strict else not (ours.kinds & theirs.kinds):
        fail(f"{other}.{role} (kinds {', '.join(sorted(theirs.kinds))}) is copied from {here!r}, which may hold "
             f"{', '.join(sorted(ours.kinds)) if ours and ours.kinds else 'any kind'}")


def _static_problem(rule: RoleRule, unit: Mapping[str, Any]) -> str | None:
    if rule.kinds is not None and unit["kind"] not in rule.kinds:
        return f"kind {unit['kind']} is not one of {', '.join(sorted(rule.kinds))}"
    if rule.member and not unit.get("member", True):
        return "not a member unit"
    if rule.own_unit:
        return "the rule allows only the acting unit"
    return None


def store_naming(conn: Connection, task_force: str, rules: NamingRules) -> None:
    trepo.put_setting(conn, SETTING_PREFIX + task_force, rules.as_data())


# --- at run time --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitFacts:
    kind: str
    jurisdiction: str
    within: frozenset[str]  # its jurisdiction and every one above it
    member: bool


class Naming:
    """Per process: each task force's rules and units (re-read now and then), and per definition the
    places that set parties. Every check refuses with a typed error naming the field."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: dict[str, tuple[float, NamingRules]] = {}
        self._units: dict[str, tuple[float, dict[str, UnitFacts]]] = {}
        self._places: dict[str, Places] = {}

    def places(self, d: Definition) -> Places:
        found = self._places.get(d.content_hash)
        if found is None:
            found = self._places[d.content_hash] = places(d)
        return found

    def rules(self, conn: Connection, task_force: str) -> NamingRules:
        cached = self._rules.get(task_force)
        if cached is None or time.monotonic() - cached[0] > REFRESH_SECONDS:
            stored = trepo.get_setting(conn, SETTING_PREFIX + task_force)
            cached = (time.monotonic(), NamingRules.from_data(stored) if stored else NamingRules())
            with self._lock:
                self._rules[task_force] = cached
        return cached[1]

    def units(self, conn: Connection, task_force: str, fresh: bool = False) -> dict[str, UnitFacts]:
        cached = self._units.get(task_force)
        if fresh or cached is None or time.monotonic() - cached[0] > REFRESH_SECONDS:
            parents = dict(conn.execute(select(Jurisdiction.code, Jurisdiction.parent_code)).all())

            def chain(code: str) -> frozenset[str]:
                seen: list[str] = []
                while code is not None and code not in seen:
                    seen.append(code)
                    code = parents.get(code)
                return frozenset(seen)

            rows = conn.execute(select(Unit.code, Unit.kind, Unit.jurisdiction_code, TaskForceUnit.member)
                                .join(TaskForceUnit, TaskForceUnit.unit_code == Unit.code)
                                .where(TaskForceUnit.task_force_code == task_force))
            cached = (time.monotonic(), {code: UnitFacts(kind, j, chain(j), bool(member))
                                         for code, kind, j, member in rows})
            with self._lock:
                self._units[task_force] = cached
        return cached[1]

    def check_units(self, conn: Connection, task_force: str, codes: Iterable[str], field: str) -> None:
        """Every unit named is a unit of this task force (unknown units, and other task forces', refused)."""
        codes = list(codes)
        known = self.units(conn, task_force)
        missing = [c for c in codes if c not in known]
        if missing:
            known = self.units(conn, task_force, fresh=True)
            missing = [c for c in codes if c not in known]
        if not missing:
            return
        elsewhere = set(conn.execute(select(Unit.code).where(Unit.code.in_(missing))).scalars())
        unknown = [c for c in missing if c not in elsewhere]
        if unknown:
            raise BadPayload(field, f"unknown unit {', '.join(unknown)}")
        raise UnitNotAllowed(field, sorted(elsewhere), "other_task_force",
                             f"{', '.join(sorted(elsewhere))} belongs to another task force, not {task_force}",
                             f"{'、'.join(sorted(elsewhere))}不是本专班的单位")

    def check_unit_fields(self, conn: Connection, task_force: str, fields: Iterable[FieldSpec],
                          payload: Mapping[str, Any], prefix: str = "") -> None:
        for f in fields:
            if f.name not in payload:
                continue
            value = payload[f.name]
            if f.type in ("unit", "units"):
                self.check_units(conn, task_force, value if isinstance(value, list) else [value], prefix + f.name)
            elif f.type == "items":
                for i, record in enumerate(value):
                    self.check_unit_fields(conn, task_force, f.items, record, f"{prefix}{f.name}.{i}.")

    def check_spawns(self, conn: Connection, task_force: str, sets: tuple[SpawnSet, ...], payload: Mapping[str, Any],
                     data: Mapping[str, Any], actor: Actor) -> None:
        """Before an event opens cases, the units it would make their parties (read as the spawn reads
        them: from the payload, else the case data recorded earlier): refused naming this event's field."""
        def value_of(key: str) -> Any:
            return payload[key] if key in payload else data.get(key)

        for s in sets:
            if s.items is None:
                found = [(s.key, value_of(s.key))]
            else:
                found = [(f"{s.items}.{i}.{s.key}", record.get(s.key))
                         for i, record in enumerate(value_of(s.items) or [])
                         if isinstance(record, Mapping) and all(record.get(k) == v for k, v in s.only)]
            for name, value in found:
                if value not in (None, "", []):
                    self.check_role(conn, task_force, s.child, s.role, value if isinstance(value, list) else [value],
                                    how=CREATE, actor=actor, field=name)

    def check_role(self, conn: Connection, task_force: str, d: Definition, role: str, codes: list[str], *,
                   how: str, actor: Actor, field: str) -> None:
        """May `actor` (a person, or the system: no unit) put `codes` into `role` by `how` (an event or `create`)?"""
        rule = self.rules(conn, task_force).rule(d.name, role)
        if rule is None or not codes:
            return
        title = d.roles[role].title or role if role in d.roles else role
        if rule.through is not None and how not in rule.through:
            names = [n if n == CREATE else (d.events[n].title or n) if n in d.events else n for n in sorted(rule.through)]
            zh = "、".join("新建案件" if n == CREATE else f"“{n}”" for n in names)
            raise UnitNotAllowed(field, codes, "through",
                                 f"{role} is set only through {', '.join(sorted(rule.through))}, not {how}",
                                 f"{title}只能通过{zh}指定，不能在此指定", role=role)
        units = self.units(conn, task_force)
        mine = units.get(actor.unit) if actor.unit else None
        for code in codes:
            facts = units.get(code)
            if facts is None:  # checked before; a unit removed since is refused all the same
                self.check_units(conn, task_force, [code], field)
                continue
            if rule.kinds is not None and facts.kind not in rule.kinds:
                allowed = "、".join(KIND_ZH.get(k, k) for k in sorted(rule.kinds))
                raise UnitNotAllowed(field, [code], "kind",
                                     f"{code} is a unit of kind {facts.kind}; {role} must be one of "
                                     f"{', '.join(sorted(rule.kinds))}",
                                     f"{code}（{KIND_ZH.get(facts.kind, facts.kind)}）不能担任{title}，只能是{allowed}",
                                     role=role)
            if rule.member and not facts.member:
                raise UnitNotAllowed(field, [code], "member", f"{code} is not a member unit of {task_force}",
                                     f"{code}不是专班成员单位，不能担任{title}", role=role)
            if rule.within:
                areas = {mine.jurisdiction if w == ACTOR_JURISDICTION and mine else w for w in rule.within
                         if w != ACTOR_JURISDICTION or mine}
                if areas and not areas & facts.within:
                    raise UnitNotAllowed(field, [code], "jurisdiction",
                                         f"{code} lies outside {', '.join(sorted(areas))}",
                                         f"{code}不在{'、'.join(sorted(areas))}辖区内，不能担任{title}", role=role)
            if rule.own_unit and actor.unit and code != actor.unit:
                raise UnitNotAllowed(field, [code], "own_unit", f"{role} can only be the acting unit {actor.unit}",
                                     f"{title}只能是您本单位（{actor.unit}），不能指定{code}", role=role)
