"""YAML → Definition, with semantic checks that name the file, the line and the problem."""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from engine import registry
from engine.definition import (
    DUE_SOON_DAYS,
    FIELD_TYPES,
    ITEM_FIELD_TYPES,
    MAX_TEXT_LIMIT,
    NO_OPS,
    ROLE_KINDS,
    STATE_COLOURS,
    TEXT_LIMITS,
    CreateSpec,
    DeadlineOps,
    DeadlineSpec,
    Definition,
    DurationRule,
    EventSpec,
    FieldSpec,
    Invocation,
    RoleSpec,
    SourceRef,
    StateSpec,
    SuperviseSpec,
)
from engine.errors import DefinitionError

UNITS = ("hour", "calendar_day", "working_day", "month")
OPS = ("start", "stop", "pause", "resume", "reset", "extend")

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class _Map(dict):
    """A mapping that remembers the line it started on, and the line of each key."""

    line: int | None = None
    lines: dict[Any, int] | None = None


class _List(list):
    """A list that remembers the line it started on, and the line of each entry."""

    line: int | None = None
    lines: list[int] | None = None


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise DefinitionError(loader.name, key_node.start_mark.line + 1, f"duplicate key {key!r}")
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _List:
    result = _List(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML keeping line numbers on mappings and lists."""
    loader = _LineLoader(text)
    loader.name = source
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = " ".join(str(getattr(exc, "problem", None) or exc).split())
        context = getattr(exc, "context", None)
        if context:
            what += f" ({' '.join(context.split())})"
        raise DefinitionError(source, mark.line + 1 if mark else None, f"not valid YAML: {what}") from exc
    finally:
        loader.dispose()


def content_hash(data: Any) -> str:
    """SHA-256 of the canonical JSON form: comments and layout do not change a definition."""
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


class _Checker:
    def __init__(self, source: str, org_roles: Iterable[str] | None) -> None:
        self.source = source
        self.org_roles = frozenset(org_roles) if org_roles is not None else None

    def fail(self, node: Any, problem: str, line: int | None = None):
        raise DefinitionError(self.source, line or getattr(node, "line", None), problem)

    def mapping(self, node: Any, what: str, parent: Any = None) -> Mapping:
        if not isinstance(node, Mapping):
            self.fail(node if hasattr(node, "line") else parent, f"{what} must be a mapping")
        return node

    def require(self, node: Mapping, key: str, what: str) -> Any:
        if key not in node or node[key] is None:
            self.fail(node, f"{what} is missing {key!r}")
        return node[key]

    def unknown_keys(self, node: Mapping, allowed: set[str], what: str) -> None:
        extra = sorted(set(node) - allowed)
        if extra:
            self.fail(node, f"{what} has unknown key(s) {', '.join(map(repr, extra))}; allowed: {', '.join(sorted(allowed))}")

    def name(self, node: Any, value: Any, what: str) -> str:
        if not isinstance(value, str) or not NAME_RE.match(value):
            self.fail(node, f"{what} {value!r} must match {NAME_RE.pattern}")
        return value

    def invocations(self, node: Mapping, items: Any, kind: str, known: Mapping[str, Any]) -> tuple[Invocation, ...]:
        if items is None:
            return ()
        if not isinstance(items, list):
            self.fail(node, f"{kind}s must be a list")
        out = []
        for item in items:
            if isinstance(item, str):
                name, args = item, {}
            elif isinstance(item, Mapping) and len(item) == 1:
                name, args = next(iter(item.items()))
                args = args or {}
                if not isinstance(args, Mapping):
                    self.fail(item, f"arguments of {kind} {name!r} must be a mapping")
            else:
                self.fail(items, f"each {kind} is a name or a one-key mapping of name to arguments")
            if name not in known:
                self.fail(item if hasattr(item, "line") else items,
                          f"unknown {kind} {name!r}; known {kind}s: {', '.join(sorted(known))}")
            problem = known[name].check_args(args)
            if problem:
                self.fail(item if hasattr(item, "line") else items, f"{kind} {name!r}: {problem}")
            out.append(Invocation(name, tuple(sorted(_plain(args).items()))))
        return tuple(out)

    def duration(self, node: Any, what: str, when_flag: str | None = None) -> DurationRule:
        self.mapping(node, what)
        amount, unit = node.get("amount"), node.get("unit")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
            self.fail(node, f"{what}: amount must be a positive integer, not {amount!r}")
        if unit not in UNITS:
            self.fail(node, f"{what}: unit {unit!r} is not one of {', '.join(UNITS)}")
        return DurationRule(amount, unit, when_flag)

    def deadlines(self, node: Any, roles: Mapping[str, RoleSpec]) -> dict[str, DeadlineSpec]:
        if node is None:
            return {}
        self.mapping(node, "deadlines")
        out = {}
        for dname, spec in node.items():
            self.name(node, dname, "deadline name")
            self.mapping(spec, f"deadline {dname!r}", node)
            self.unknown_keys(spec, {"title", "amount", "unit", "when", "from_field", "start_field", "owner", "warn",
                                     "on_expiry", "supervise", "sets_due", "source", "start_after"},
                              f"deadline {dname!r}")
            rules = []
            for alt in spec.get("when") or []:
                self.mapping(alt, f"deadline {dname!r} when", spec)
                flag = alt.get("flag")
                if not isinstance(flag, str):
                    self.fail(alt, f"deadline {dname!r}: each 'when' needs a flag")
                rules.append(self.duration({k: v for k, v in alt.items() if k != "flag"},
                                           f"deadline {dname!r} when {flag}", flag))
            if "amount" in spec or "unit" in spec:
                rules.append(self.duration({"amount": spec.get("amount"), "unit": spec.get("unit")}, f"deadline {dname!r}"))
            elif not spec.get("from_field"):
                self.fail(spec, f"deadline {dname!r} needs amount and unit, or from_field")
            owner = spec.get("owner")
            if owner is not None and (owner not in roles or roles[owner].kind != "party"):
                self.fail(spec, f"deadline {dname!r}: owner {owner!r} is not a party role of this definition")
            warn_share = warn_before = None
            warn = spec.get("warn")
            if warn is not None:
                self.mapping(warn, f"deadline {dname!r} warn", spec)
                if "share" in warn:
                    warn_share = warn["share"]
                    if not isinstance(warn_share, int | float) or not 0 < warn_share < 1:
                        self.fail(warn, f"deadline {dname!r}: warn share must lie between 0 and 1")
                else:
                    warn_before = self.duration(warn, f"deadline {dname!r} warn")
            supervise = None
            if spec.get("supervise") is not None:
                sup = self.mapping(spec["supervise"], f"deadline {dname!r} supervise", spec)
                self.unknown_keys(sup, {"workflow", "parties", "cancel"}, f"deadline {dname!r} supervise")
                parties = sup.get("parties") or {}
                for new_role, here in parties.items():
                    if here not in roles or roles[here].kind != "party":
                        self.fail(sup, f"deadline {dname!r}: supervise maps {new_role!r} from unknown party role {here!r}")
                supervise = SuperviseSpec(self.name(sup, sup.get("workflow"), "supervise workflow"),
                                          tuple(sorted(parties.items())),
                                          self.name(sup, sup.get("cancel", "cancel"), "supervise cancel event"))
            out[dname] = DeadlineSpec(
                name=dname, title=str(spec.get("title", dname)), rules=tuple(rules),
                from_field=spec.get("from_field"), start_field=spec.get("start_field"), owner=owner,
                warn_share=warn_share, warn_before=warn_before, on_expiry=spec.get("on_expiry"),
                supervise=supervise, sets_due=bool(spec.get("sets_due", True)),
                source=self.source_ref(spec, spec.get("source"), f"deadline {dname!r}"),
                start_after=spec.get("start_after"),
            )
        # Sources are all-or-none within a version: a version that cites one deadline's source cites
        # every one (workflows/README.md), so a new version that adds them cannot miss one.
        cited = [dname for dname, dl in out.items() if dl.source is not None]
        if cited:
            for dname, dl in out.items():
                if dl.source is None:
                    self.fail(node[dname], f"deadline {dname!r} has no source, but deadline {cited[0]!r} of this "
                                           f"definition cites one: every deadline of a version cites its source")
        for dname, dl in out.items():
            if dl.start_after is not None and (dl.start_after not in out or dl.start_after == dname):
                self.fail(node[dname], f"deadline {dname!r} starts after {dl.start_after!r}, which is not another "
                                       f"deadline of this definition")
        return out

    def source_ref(self, node: Any, value: Any, what: str) -> SourceRef | None:
        """`source: {law, year, article?, verified?, note?}` — the rule a deadline comes from."""
        if value is None:
            return None
        self.mapping(value, f"{what} source", node)
        self.unknown_keys(value, {"law", "year", "article", "verified", "note"}, f"{what} source")
        law, year = value.get("law"), value.get("year")
        if not isinstance(law, str) or not law.strip():
            self.fail(value, f"{what} source needs the law's name (law)")
        if not isinstance(year, int) or isinstance(year, bool) or not 1949 <= year <= 2100:
            self.fail(value, f"{what} source needs the year of the text (year), not {year!r}")
        verified = value.get("verified", True)
        if not isinstance(verified, bool):
            self.fail(value, f"{what} source verified must be true or false")
        return SourceRef(law=law.strip().strip("《》"), year=year, article=str(value.get("article") or ""),
                         verified=verified, note=str(value.get("note") or ""))

    def deadline_ops(self, node: Mapping, value: Any, known: Mapping[str, DeadlineSpec], what: str,
                     fields: tuple[FieldSpec, ...] = ()) -> DeadlineOps:
        if value is None:
            return NO_OPS
        self.mapping(value, f"{what} deadlines", node)
        self.unknown_keys(value, set(OPS), f"{what} deadlines")
        ops: dict[str, Any] = {}
        for op, names in value.items():
            if op == "extend":
                self.mapping(names, f"{what} deadlines extend (deadline: date field)", value)
                pairs = []
                for dname, fname in names.items():
                    field = next((f for f in fields if f.name == fname), None)
                    if field is None or field.type != "date":
                        self.fail(value, f"{what} extends {dname!r} from {fname!r}, which is not a date field of it")
                    pairs.append((dname, fname))
                ops[op] = tuple(pairs)
                names = [d for d, _ in pairs]
            else:
                if isinstance(names, str):
                    names = [names]
                if not isinstance(names, list):
                    self.fail(value, f"{what} deadlines {op} must list deadline names")
                ops[op] = tuple(names)
            for dname in names:
                if dname not in known:
                    self.fail(value, f"{what} names unknown deadline {dname!r}; declared: {', '.join(sorted(known)) or 'none'}")
        return DeadlineOps(**ops)

    def names(self, node: Mapping, items: Any, what: str) -> tuple[str, ...]:
        if items is None:
            return ()
        if not isinstance(items, list):
            self.fail(node, f"{what} must be a list of names")
        return tuple(self.name(node, i, what) for i in items)

    def fields(self, node: Mapping, items: Any, types: frozenset[str] = FIELD_TYPES) -> tuple[FieldSpec, ...]:
        if items is None:
            return ()
        self.mapping(items, "fields", node)
        out = []
        for fname, spec in items.items():
            self.name(items, fname, "field name")
            if isinstance(spec, str):
                spec = {"type": spec}
            self.mapping(spec, f"field {fname!r}", items)
            self.unknown_keys(spec, {"type", "required", "title", "choices", "fields", "max_length"},
                              f"field {fname!r}")
            ftype = spec.get("type")
            if ftype not in types:
                self.fail(spec, f"field {fname!r} has unknown type {ftype!r}; types: {', '.join(sorted(types))}")
            given = spec.get("choices") or ()
            # `choices: {code: title}` records the code and shows the title; a list is both.
            choices = tuple(str(k) for k in given)
            titles = tuple(str(v) for v in given.values()) if isinstance(given, Mapping) else ()
            if isinstance(given, Mapping) and not all(t.strip() for t in titles):
                self.fail(spec, f"field {fname!r}: every choice needs a title in choices: {{code: title}}")
            if ftype in ("choice", "choices") and not choices:
                self.fail(spec, f"field {fname!r} of type {ftype} needs choices")
            sub: tuple[FieldSpec, ...] = ()
            if ftype == "items":
                if not spec.get("fields"):
                    self.fail(spec, f"field {fname!r} of type items needs the fields of each item")
                sub = self.fields(spec, spec["fields"], ITEM_FIELD_TYPES)
            elif "fields" in spec:
                self.fail(spec, f"field {fname!r}: only a field of type items has fields")
            limit = spec.get("max_length")
            if limit is not None:
                if ftype not in TEXT_LIMITS:
                    self.fail(spec, f"field {fname!r}: max_length applies to {', '.join(sorted(TEXT_LIMITS))} fields")
                if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_TEXT_LIMIT:
                    self.fail(spec, f"field {fname!r}: max_length must be an integer from 1 to {MAX_TEXT_LIMIT}")
            out.append(FieldSpec(fname, ftype, bool(spec.get("required", False)), str(spec.get("title", "")), choices,
                                 sub, limit, titles))
        return tuple(out)

    def roles_ref(self, node: Mapping, names: Any, declared: Mapping[str, RoleSpec], what: str) -> tuple[str, ...]:
        if not isinstance(names, list) or not names:
            self.fail(node, f"{what} needs a non-empty list of roles")
        for r in names:
            if r not in declared:
                self.fail(names if hasattr(names, "line") else node,
                          f"{what} names unknown role {r!r}; declared roles: {', '.join(sorted(declared))}")
        return tuple(names)


def load_definition(
    text: str, source: str = "<memory>", *, org_roles: Iterable[str] | None = None, structure: bool = True
) -> Definition:
    """Parse and check one definition. `org_roles`, when given, are the roles the organisation defines.
    The structure is checked against the schema (engine/schema/definition.py) first: the first problem
    is raised, with every one found in `problems` (`gongzhi check` prints them all)."""
    c = _Checker(source, org_roles)
    doc = parse_yaml(text, source)
    if structure:
        from engine import schema

        schema.refuse("definition", doc, source)
    c.mapping(doc, "a definition")
    c.unknown_keys(doc, {"name", "version", "title", "description", "number_prefix", "roles", "states",
                         "events", "create", "deadlines", "due_soon_days", "links"}, "the definition")
    name = c.name(doc, c.require(doc, "name", "the definition"), "definition name")
    version = c.require(doc, "version", "the definition")
    if not isinstance(version, int) or version < 1:
        c.fail(doc, f"version must be a positive integer, not {version!r}")

    roles: dict[str, RoleSpec] = {}
    roles_node = c.mapping(c.require(doc, "roles", "the definition"), "roles", doc)
    for rname, spec in roles_node.items():
        c.name(roles_node, rname, "role name")
        spec = c.mapping(spec, f"role {rname!r}", roles_node)
        kind = spec.get("kind")
        if kind not in ROLE_KINDS:
            c.fail(spec, f"role {rname!r} has kind {kind!r}; kinds: org, party")
        if kind == "org" and c.org_roles is not None and rname not in c.org_roles:
            c.fail(spec, f"unknown role {rname!r}: the organisation defines {', '.join(sorted(c.org_roles))}")
        roles[rname] = RoleSpec(rname, kind, str(spec.get("title", "")))

    deadlines = c.deadlines(doc.get("deadlines"), roles)

    states: dict[str, StateSpec] = {}
    states_node = c.require(doc, "states", "the definition")
    if not isinstance(states_node, list) or not states_node:
        c.fail(doc, "states must be a non-empty list")
    for s in states_node:
        c.mapping(s, "a state", states_node)
        c.unknown_keys(s, {"name", "title", "initial", "final", "deadlines", "colour"}, "a state")
        colour = s.get("colour", "")
        if colour and colour not in STATE_COLOURS:
            c.fail(s, f"a state's colour is one of {', '.join(sorted(STATE_COLOURS))}, not {colour!r}")
        sname = c.name(s, c.require(s, "name", "a state"), "state name")
        if sname in states:
            c.fail(s, f"duplicate state {sname!r}")
        states[sname] = StateSpec(sname, str(s.get("title", "")), bool(s.get("initial")), bool(s.get("final")),
                                  c.deadline_ops(s, s.get("deadlines"), deadlines, f"state {sname!r}"),
                                  str(colour))
    initials = [s.name for s in states.values() if s.initial]
    if len(initials) != 1:
        c.fail(states_node, f"exactly one state must be initial, found {len(initials)}")

    registered_guards, registered_effects = registry.guards(), registry.effects()
    events: dict[str, EventSpec] = {}
    seen_pairs: set[tuple[str, str]] = set()
    events_node = c.require(doc, "events", "the definition")
    if not isinstance(events_node, list):
        c.fail(doc, "events must be a list")
    for e in events_node:
        c.mapping(e, "an event", events_node)
        c.unknown_keys(e, {"name", "title", "from", "to", "roles", "guards", "fields", "effects", "documents",
                          "deadlines", "card"}, "an event")
        ename = c.name(e, c.require(e, "name", "an event"), "event name")
        if ename in events:
            c.fail(e, f"duplicate event {ename!r}")
        src = c.require(e, "from", f"event {ename!r}")
        if src == "*":
            sources = tuple(s.name for s in states.values() if not s.final)
        elif isinstance(src, str):
            sources = (src,)
        elif isinstance(src, list) and src:
            sources = tuple(src)
        else:
            c.fail(e, f"event {ename!r}: 'from' must be a state, a list of states or '*'")
        for s in sources:
            if s not in states:
                c.fail(e, f"event {ename!r} comes from unknown state {s!r}")
            if states[s].final:
                c.fail(e, f"final state {s!r} has an outgoing event {ename!r}")
            if (s, ename) in seen_pairs:
                c.fail(e, f"event {ename!r} is declared twice from state {s!r}")
            seen_pairs.add((s, ename))
        dest = e.get("to")
        if dest is not None and dest not in states:
            c.fail(e, f"event {ename!r} goes to unknown state {dest!r}")
        efields = c.fields(e, e.get("fields"))
        card = None
        if e.get("card") is not None:
            spec = c.mapping(e["card"], f"event {ename!r} card", e)
            c.unknown_keys(spec, {"kind", "against"}, f"event {ename!r} card")
            against = spec.get("against")
            if against not in roles or roles[against].kind != "party":
                c.fail(spec, f"event {ename!r}: a card is against a party role of this definition, not {against!r}")
            card = (c.name(spec, spec.get("kind"), "card kind"), against)
        events[ename] = EventSpec(
            name=ename,
            sources=sources,
            dest=dest,
            roles=c.roles_ref(e, e.get("roles"), roles, f"event {ename!r}"),
            title=str(e.get("title", "")),
            guards=c.invocations(e, e.get("guards"), "guard", registered_guards),
            fields=efields,
            effects=c.invocations(e, e.get("effects"), "effect", registered_effects),
            documents=c.names(e, e.get("documents"), f"event {ename!r} documents"),
            deadlines=c.deadline_ops(e, e.get("deadlines"), deadlines, f"event {ename!r}", efields),
            card=card,
        )

    create_node = c.mapping(c.require(doc, "create", "the definition"), "create", doc)
    c.unknown_keys(create_node, {"roles", "fields", "effects", "deadlines"}, "create")
    cfields = c.fields(create_node, create_node.get("fields"))
    create = CreateSpec(
        roles=c.roles_ref(create_node, create_node.get("roles"), roles, "create"),
        fields=cfields,
        effects=c.invocations(create_node, create_node.get("effects"), "effect", registered_effects),
        deadlines=c.deadline_ops(create_node, create_node.get("deadlines"), deadlines, "create", cfields),
    )
    for r in create.roles:
        if roles[r].kind != "org":
            c.fail(create_node, f"create role {r!r} is a party role; only organisation roles can open a case")

    for dl in deadlines.values():
        if dl.on_expiry is not None:
            ev = events.get(dl.on_expiry)
            if ev is None:
                c.fail(doc.get("deadlines"), f"deadline {dl.name!r} fires unknown event {dl.on_expiry!r} at expiry")
            if "system" not in ev.roles:
                c.fail(doc.get("deadlines"), f"deadline {dl.name!r} fires {ev.name!r}, which does not list the role "
                                             "'system' (the clock)")

    # Reachability from the initial state.
    reached, queue = {initials[0]}, deque([initials[0]])
    while queue:
        here = queue.popleft()
        for ev in events.values():
            if here in ev.sources:
                there = ev.dest or here
                if there not in reached:
                    reached.add(there)
                    queue.append(there)
    for s in states.values():
        if s.name not in reached:
            line = next((getattr(n, "line", None) for n in states_node if n.get("name") == s.name), None)
            c.fail(states_node, f"state {s.name!r} is unreachable from {initials[0]!r}", line)

    soon = doc.get("due_soon_days", DUE_SOON_DAYS)
    if not isinstance(soon, int) or isinstance(soon, bool) or not 0 <= soon <= 365:
        c.fail(doc, f"due_soon_days must be a whole number of days (0–365), not {soon!r}")
    links_node = doc.get("links") or {}
    c.mapping(links_node, "links", doc)
    links = {}
    for kind, title in links_node.items():
        c.name(links_node, kind, "link kind")
        if not isinstance(title, str) or not title.strip():
            c.fail(links_node, f"link kind {kind!r} needs a title (what a person reads for it)")
        links[kind] = title
    raw = _plain(doc)
    return Definition(
        name=name,
        version=version,
        title=str(doc.get("title", name)),
        roles=roles,
        states=states,
        events=events,
        create=create,
        number_prefix=str(doc.get("number_prefix", name)),
        deadlines=deadlines,
        content_hash=content_hash(raw),
        due_soon_days=soon,
        links=links,
        source=source,
        raw=raw,
    )


def load_definition_file(path: Path, *, org_roles: Iterable[str] | None = None) -> Definition:
    return load_definition(path.read_text(encoding="utf-8"), str(path), org_roles=org_roles)


def definition_from_spec(spec: Mapping[str, Any], source: str = "<database>") -> Definition:
    """Rebuild a definition from the parsed form stored with a published version."""
    # A published spec was checked against the schema when it was published (and cannot change since).
    return load_definition(json.dumps(spec, ensure_ascii=False), source, structure=False)
