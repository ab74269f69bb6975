"""`gongzhi check`: read a task force folder without a database and report every problem at once.

Each file is parsed (a YAML error gives its line), checked against its schema (engine/schema/), then
what it names is resolved — states, roles, deadlines, documents, units, fields and the keys of
`where:` conditions — collecting the problems instead of stopping at the first. Only a file whose
structure is sound reaches the loaders' own checks; their first refusal, if any, is added too.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine import schema
from engine.errors import DefinitionError
from engine.schema.base import Problem, line_of, near

# Guards and effects whose `field` is read from the event's own payload only (never the case data).
PAYLOAD_ONLY = frozenset({"set_party", "add_party", "record", "set_due_from", "field_not_party", "units_within",
                          "same_top_jurisdiction", "field_after"})
# Keys the cadence scheduler fills in itself on every case it opens.
CADENCE_FIELDS = ("period", "due")
NUMERIC = ("integer", "number")


def _listed(names: Iterable[Any], most: int = 12) -> str:
    names = sorted(map(str, set(names)))
    shown = ", ".join(names[:most]) + (", …" if len(names) > most else "")
    return shown or "none"


@dataclass
class _Folder:
    """What one folder's files say, gathered as they are read."""

    path: Path
    shown: Callable[[Path], str]
    problems: list[Problem] = field(default_factory=list)
    docs: dict[Path, Any] = field(default_factory=dict)
    invalid: set[Path] = field(default_factory=set)  # parsed, but not of the schema's shape
    org: Any = None  # engine.organisation.Organisation when it loads
    definitions: list[Any] = field(default_factory=list)
    broken_definitions: bool = False
    keeps: Callable[[str, str], bool] = lambda kind, code: False

    def add(self, path: Path, node_path: Sequence[Any], what: str, allowed: str = "") -> None:
        self.problems.append(Problem(self.shown(path), line_of(self.docs.get(path), node_path), what, allowed))

    def refused(self, path: Path, err: DefinitionError) -> None:
        self.problems.append(Problem(self.shown(path), err.line or 0, err.problem))


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def mechanism_files(folder: Path) -> list[Path]:
    files = [folder / "organisation.yaml", *sorted((folder / "definitions").glob("*.yaml"))]
    files += sorted(p for p in folder.glob("*.yaml") if p.name != "organisation.yaml")
    return [p for p in files if p.is_file()]


def _parse(f: _Folder, path: Path) -> None:
    from engine.loader import parse_yaml

    try:
        doc = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except DefinitionError as err:
        hint = "keys of one mapping start in the same column, and so do the '-' of one list"
        f.problems.append(Problem(f.shown(path), err.line or 0, err.problem,
                                  hint if err.problem.startswith("not valid YAML") else ""))
        return
    except UnicodeDecodeError:
        f.problems.append(Problem(f.shown(path), 0, "not UTF-8 text", "save the file as UTF-8"))
        return
    except OSError as exc:
        f.problems.append(Problem(f.shown(path), 0, f"cannot be read: {exc.strerror}", ""))
        return
    kind = schema.kind_of(path, f.path)
    found = schema.validate(kind, doc, f.shown(path)) if kind else []
    f.problems.extend(found)
    f.docs[path] = doc
    if found:
        f.invalid.add(path)


def _guarded(f: _Folder, path: Path, check: Callable[[], None]) -> None:
    """Resolve names even in a file whose shape is wrong (every problem at once); where the shape is
    too far off to read, the schema's problems already say why."""
    try:
        check()
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        if path not in f.invalid:  # a sound file the checks could not read: say so, never a traceback
            f.problems.append(Problem(f.shown(path), 0, f"could not be checked ({type(exc).__name__}: {exc})",
                                      "please report this file to the maintainers"))


Keeps = Callable[[str, str], bool]  # (unit | jurisdiction | task_force, code) → this folder already holds it


def check_folder(folder: Path, *, others: Sequence[Path] = (), document_kinds: Collection[str] | None = None,
                 shown: Callable[[Path], str] = _display, keeps: Keeps | None = None) -> list[Problem]:
    """Every problem of one task force folder; `others` are the deployment's other task force folders
    (their codes must not collide with this one's, unless `keeps` says this task force held the code
    first: then the other folder is the one refused); `document_kinds` the kinds an event may issue."""
    f = _Folder(folder, shown)
    f.keeps = keeps or (lambda kind, code: False)
    files = mechanism_files(folder)
    if not (folder / "organisation.yaml").is_file():
        # Not a task force folder (the holiday calendars beside them, a typo in the path): reading its
        # files as a mechanism's would only bury this one line under made-up problems.
        return [Problem(shown(folder), 0, "no organisation.yaml", "a task force folder starts with one")]
    for path in files:
        _parse(f, path)
    _organisation(f, folder / "organisation.yaml", others)
    for path in files:
        if path.parent.name == "definitions" and path in f.docs:
            _guarded(f, path, lambda path=path: _definition(f, path, document_kinds))
        if path.parent.name == "definitions" and (path not in f.docs or path in f.invalid):
            f.broken_definitions = True
    sketches = _sketches(f)
    for path in files:
        if path not in f.docs or path.parent.name == "definitions":
            continue
        kind = schema.kind_of(path, folder)
        check = {"cadences": _cadences, "items": _items, "demo_accounts": lambda f, p, _: _demo(f, p),
                 "notifications": _notifications, "worklist": _worklist, "simulation": _simulation,
                 "figures": lambda f, p, _: _figures(f, p)}.get(kind)
        if check is not None:
            _guarded(f, path, lambda check=check, path=path: check(f, path, sketches))
    # What the loaders check across files (ladders, cross-workflow effects, naming) needs every
    # definition loaded.
    latest = {d.name: d for d in sorted(f.definitions, key=lambda d: d.version)}
    if f.org is not None and not f.broken_definitions and len(f.definitions) == len(
            [p for p in files if p.parent.name == "definitions"]):
        _task_force(f, latest)
    return sorted(set(f.problems), key=lambda p: (p.file, p.line, p.what))


def check_root(root: Path, *, document_kinds: Collection[str] | None = None,
               shown: Callable[[Path], str] = _display,
               keeps: Callable[[Path], Keeps | None] = lambda folder: None) -> dict[Path, list[Problem]]:
    """Every task force folder under `root`, each checked against the others."""
    from engine.bootstrap import task_force_folders

    folders = task_force_folders(root)
    return {folder: check_folder(folder, others=[o for o in folders if o != folder], document_kinds=document_kinds,
                                 shown=shown, keeps=keeps(folder)) for folder in folders}


def task_force_code(folder: Path) -> str | None:
    """The code an organisation file declares, read leniently (None when it cannot be read)."""
    try:
        return _codes(yaml.safe_load((folder / "organisation.yaml").read_text(encoding="utf-8")))[0]
    except (OSError, yaml.YAMLError):
        return None


# --- organisation -------------------------------------------------------------------------------


def _codes(doc: Any) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """(task force code, unit code → its node, jurisdiction code → its node) of an organisation doc."""
    if not isinstance(doc, Mapping):
        return None, {}, {}
    tf = doc.get("task_force") if isinstance(doc.get("task_force"), Mapping) else {}
    units = {u.get("code"): u for u in doc.get("units") or [] if isinstance(u, Mapping)}
    places: dict[str, Any] = {}

    def walk(nodes: Any) -> None:
        for n in nodes or []:
            if isinstance(n, Mapping):
                places.setdefault(n.get("code"), n)
                walk(n.get("children"))

    walk(doc.get("jurisdictions"))
    return tf.get("code"), units, places


def _organisation(f: _Folder, path: Path, others: Sequence[Path]) -> None:
    from engine.organisation import parse_organisation

    doc = f.docs.get(path)
    if doc is None:
        return
    if path not in f.invalid:
        try:
            f.org = parse_organisation(path)
        except DefinitionError as err:
            f.refused(path, err)
    code, _, places = _codes(doc)
    for other in others:
        try:
            theirs = _codes(yaml.safe_load((other / "organisation.yaml").read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError):
            continue  # that folder's own check reports it
        where = f.shown(other / "organisation.yaml")
        if code is not None and code == theirs[0] and not f.keeps("task_force", code):
            f.add(path, ["task_force", "code"], f"task force code {code!r} is already used by {where}",
                  "a code unique in the deployment")
        for i, u in enumerate(doc.get("units") or []):
            if isinstance(u, Mapping) and u.get("code") in theirs[1] and not f.keeps("unit", u["code"]):
                f.add(path, ["units", i, "code"], f"unit code {u['code']!r} is already used by {where}",
                      "a code unique in the deployment (prefix it with the task force's short code)")
        for jcode, node in places.items():
            if jcode in theirs[2] and not f.keeps("jurisdiction", jcode):
                f.problems.append(Problem(f.shown(path), (getattr(node, "lines", None) or {}).get("code", 0),
                                          f"jurisdiction code {jcode!r} is already used by {where}",
                                          "a code unique in the deployment (prefix it with the task force's short code)"))


# --- definitions --------------------------------------------------------------------------------


def _fields_of(node: Any) -> dict[str, Any]:
    fields = node.get("fields") if isinstance(node, Mapping) else None
    return {k: (v if isinstance(v, Mapping) else {"type": v}) for k, v in (fields or {}).items()}


def _invocations(node: Mapping, key: str) -> list[tuple[int, str, Mapping[str, Any]]]:
    out = []
    for i, item in enumerate(node.get(key) or []):
        if isinstance(item, str):
            out.append((i, item, {}))
        elif isinstance(item, Mapping) and len(item) == 1:
            name, args = next(iter(item.items()))
            out.append((i, name, args or {}))
    return out


def _definition(f: _Folder, path: Path, document_kinds: Collection[str] | None) -> None:
    from engine.loader import load_definition

    doc = f.docs[path]
    before = len(f.problems)
    roles = doc.get("roles") or {}
    states = [s.get("name") for s in doc.get("states") or []]
    deadlines = doc.get("deadlines") or {}
    events = doc.get("events") or []
    event_names = [e.get("name") for e in events]
    party_roles = [r for r, spec in roles.items() if spec.get("kind") == "party"]
    create = doc.get("create") or {}
    typed: dict[str, str] = {}
    for node in [create, *events]:
        for name, spec in _fields_of(node).items():
            typed.setdefault(name, spec.get("type"))
    data_keys = set(typed)
    for node in [create, *events]:
        for _, name, args in _invocations(node, "effects"):
            for arg in {"record": ("key", "field"), "set_flag": ("flag",), "increment": ("key",),
                        "append_item": ("key",), "compare": ("flag",)}.get(name, ()):
                if args.get(arg):
                    data_keys.add(args[arg])
                    break

    if f.org is not None:
        for rname, spec in roles.items():
            if spec.get("kind") == "org" and rname not in f.org.role_codes:
                f.add(path, ["roles", rname], f"role {rname!r} is no role of the organisation{near(rname, f.org.role_codes)}",
                      f"organisation roles: {_listed(f.org.role_codes)}")
    for ename, spec in deadlines.items():
        for key, allowed, what in (("owner", party_roles, "party role"), ("on_expiry", event_names, "event"),
                                   ("start_after", list(deadlines), "deadline")):
            value = spec.get(key)
            if value is not None and value not in allowed:
                f.add(path, ["deadlines", ename, key], f"deadline {ename!r}: {key} {value!r} is no {what} of this "
                      f"definition{near(value, allowed)}", f"{what}s: {_listed(allowed)}")
        for key in ("from_field", "start_field"):
            value = spec.get(key)
            if value is not None and value not in typed:
                f.add(path, ["deadlines", ename, key], f"deadline {ename!r}: {key} {value!r} is no field of this "
                      f"definition{near(value, typed)}", f"fields: {_listed(typed)}")

    def ops(node: Mapping, at: list[Any]) -> None:
        value = node.get("deadlines")
        if not isinstance(value, Mapping):
            return
        for op, names in value.items():
            names = list(names) if isinstance(names, Mapping | list) else [names]
            for n in names:
                if n not in deadlines:
                    f.add(path, [*at, "deadlines", op], f"{op} names unknown deadline {n!r}{near(n, deadlines)}",
                          f"deadlines: {_listed(deadlines)}")

    def role_list(node: Mapping, at: list[Any], what: str) -> None:
        for r in node.get("roles") or []:
            if r not in roles:
                f.add(path, [*at, "roles"], f"{what} names unknown role {r!r}{near(r, roles)}",
                      f"declared roles: {_listed(roles)}")

    _graph(f, path, doc)
    for i, s in enumerate(doc.get("states") or []):
        ops(s, ["states", i])
    role_list(create, ["create"], "create")
    ops(create, ["create"])
    _calls(f, path, create, ["create"], "create", typed, data_keys, roles, deadlines)
    _payload_reads(f, path, create, ["create"], "create")
    for i, e in enumerate(events):
        ename = e.get("name")
        at = ["events", i]
        src = e.get("from")
        for s in ([src] if isinstance(src, str) else src or []):
            if s != "*" and s not in states:
                f.add(path, [*at, "from"], f"event {ename!r} comes from unknown state {s!r}{near(s, states)}",
                      f"states: {_listed(states)}")
        dest = e.get("to")
        if dest is not None and dest not in states:
            f.add(path, [*at, "to"], f"event {ename!r} goes to unknown state {dest!r}{near(dest, states)}",
                  f"states: {_listed(states)}")
        role_list(e, at, f"event {ename!r}")
        ops(e, at)
        if document_kinds is not None:
            for j, kind in enumerate(e.get("documents") or []):
                if kind not in document_kinds:
                    f.add(path, [*at, "documents", j], f"event {ename!r} issues unknown document kind {kind!r}"
                          f"{near(kind, document_kinds)}", f"document kinds: {_listed(document_kinds)}")
        card = e.get("card") or {}
        if card and card.get("against") not in party_roles:
            f.add(path, [*at, "card"], f"event {ename!r}: a card is against a party role, not {card.get('against')!r}",
                  f"party roles: {_listed(party_roles)}")
        here = {**typed, **{k: v.get("type") for k, v in _fields_of(e).items()}}
        _calls(f, path, e, at, f"event {ename!r}", here, data_keys, roles, deadlines)
        _payload_reads(f, path, e, at, f"event {ename!r}")
    if len(f.problems) > before or path in f.invalid:
        f.broken_definitions = True
        return
    try:
        f.definitions.append(load_definition(path.read_text(encoding="utf-8"), str(path),
                                             org_roles=f.org.role_codes if f.org is not None else None))
    except DefinitionError as err:
        f.broken_definitions = True
        f.problems.append(Problem(f.shown(path), err.line or 0, err.problem))


def _graph(f: _Folder, path: Path, doc: Mapping[str, Any]) -> None:
    """The state graph: one initial state, names declared once, no way out of a final state, every
    state reachable from the initial one."""
    states = doc.get("states") or []
    initial = [s.get("name") for s in states if s.get("initial")]
    if len(initial) != 1:
        f.add(path, ["states"], f"exactly one state must be initial, found {len(initial)}"
              + (f" ({', '.join(map(str, initial))})" if initial else ""), "mark one state initial: true")
    final = {s.get("name") for s in states if s.get("final")}
    for key, items in (("state", states), ("event", doc.get("events") or [])):
        seen: set[Any] = set()
        for i, node in enumerate(items):
            name = node.get("name")
            if name in seen and key == "state":
                f.add(path, [f"{key}s", i, "name"], f"duplicate {key} {name!r}", f"each {key} is declared once")
            seen.add(name)
    edges: dict[Any, set[Any]] = {}
    for i, e in enumerate(doc.get("events") or []):
        src = e.get("from")
        sources = [s.get("name") for s in states if not s.get("final")] if src == "*" else (
            [src] if isinstance(src, str) else list(src or []))
        for s in sources:
            if s in final:
                f.add(path, ["events", i, "from"], f"final state {s!r} has an outgoing event {e.get('name')!r}",
                      "a final state ends the case")
            edges.setdefault(s, set()).add(e.get("to") or s)
    names = {s.get("name") for s in states}
    # An event to an unknown state is reported as such; what it leaves unreached would only echo it.
    sound = all(there in names for ends in edges.values() for there in ends) and set(edges) <= names
    if len(initial) == 1 and sound:
        reached, todo = {initial[0]}, [initial[0]]
        while todo:
            for there in edges.get(todo.pop(), ()):
                if there not in reached:
                    reached.add(there)
                    todo.append(there)
        for i, s in enumerate(states):
            if s.get("name") not in reached:
                f.add(path, ["states", i], f"state {s.get('name')!r} is unreachable from {initial[0]!r}",
                      "an event must lead to it")


def _calls(f: _Folder, path: Path, node: Mapping, at: list[Any], what: str, typed: Mapping[str, str],
           data_keys: set[str], roles: Mapping[str, Any], deadlines: Mapping[str, Any]) -> None:
    """What the guards and effects of one event (or of create) name resolves in this definition."""
    units = {u["code"] for u in f.org.units} if f.org is not None else None
    for key in ("guards", "effects"):
        for i, name, args in _invocations(node, key):
            here = [*at, key, i]
            label = f"{what}: {key[:-1]} {name!r}"
            if isinstance(args.get("role"), str) and args["role"] not in roles:
                f.add(path, here, f"{label} names unknown role {args['role']!r}{near(args['role'], roles)}",
                      f"declared roles: {_listed(roles)}")
            if isinstance(args.get("deadline"), str) and args["deadline"] not in deadlines:
                f.add(path, here, f"{label} names unknown deadline {args['deadline']!r}"
                      f"{near(args['deadline'], deadlines)}", f"deadlines: {_listed(deadlines)}")
            if name != "spawn" and isinstance(args.get("field"), str) and args["field"] not in data_keys:
                f.add(path, here, f"{label} reads {args['field']!r}, which no field or effect of this definition "
                      f"provides{near(args['field'], data_keys)}", f"fields and case data keys: {_listed(data_keys)}")
            if name in ("add_units",) and units is not None:
                for u in args.get("units") or []:
                    if u not in units:
                        f.add(path, here, f"{label} names unknown unit {u!r}{near(u, units)}",
                              "units of organisation.yaml")
            if name == "increment" and isinstance(args.get("key"), str):
                kind = typed.get(args["key"])
                if kind is not None and kind not in NUMERIC:
                    f.add(path, here, f"{label} counts in {args['key']!r}, which is a {kind} field",
                          "increment takes a counter key of its own (a case data key no field of another type uses)")
            where = args.get("where")
            if isinstance(where, Mapping):
                for wkey, wanted in where.items():
                    if wkey not in data_keys:
                        f.add(path, here, f"{label}: where names {wkey!r}, which no field or effect of this "
                              f"definition provides{near(wkey, data_keys)}",
                              f"fields and case data keys: {_listed(data_keys)}")
                        continue
                    spec = _field_spec(node, wkey) or {}
                    choices = spec.get("choices") if spec.get("type") in ("choice", "choices") else None
                    for value in (wanted if isinstance(wanted, list) else [wanted]):
                        if choices and value not in choices:
                            f.add(path, here, f"{label}: where {wkey}: {value!r} is not one of its choices"
                                  f"{near(value, choices)}", f"choices: {_listed(choices)}")


def _payload_reads(f: _Folder, path: Path, node: Mapping, at: list[Any], what: str) -> None:
    """A guard or effect that reads the payload alone names a field of this very event."""
    own = _fields_of(node)
    for key in ("guards", "effects"):
        for i, name, args in _invocations(node, key):
            named = [args.get("field")] if name in PAYLOAD_ONLY else []
            if name == "append_item":
                named = list(args.get("fields") or [])
            for field_name in named:
                if isinstance(field_name, str) and field_name not in own:
                    f.add(path, [*at, key, i], f"{what}: {key[:-1]} {name!r} reads {field_name!r} from the payload, "
                          f"which is no field of it{near(field_name, own)}", f"its fields: {_listed(own)}")


def _field_spec(node: Mapping, name: str) -> Mapping[str, Any] | None:
    return _fields_of(node).get(name)


# --- the folder as a whole ----------------------------------------------------------------------


def _task_force(f: _Folder, latest: Mapping[str, Any]) -> None:
    from engine.awaited import parse_optional
    from engine.naming import parse_naming
    from engine.notices import parse_notifications
    from engine.publishing import check_references

    seen: set[tuple[str, int]] = set()
    for d in f.definitions:
        if d.key in seen:
            f.problems.append(Problem(f.shown(Path(d.source)), 0, f"{d.name} version {d.version} is defined twice"))
        seen.add(d.key)
        try:
            check_references(d, dict(latest), f.org)
        except DefinitionError as err:
            f.problems.append(Problem(f.shown(Path(err.source)), err.line or 0, err.problem))
    mine = {Path(p.file).name for p in f.problems}
    for name, parse in (("notifications.yaml", lambda p: parse_notifications(p, latest, frozenset(f.org.role_codes))),
                        ("naming.yaml", lambda p: parse_naming(p, f.definitions, f.org)),
                        ("worklist.yaml", lambda p: parse_optional(p, f.definitions))):  # people's events only
        path = f.path / name
        if path in f.docs and path not in f.invalid and name not in mine:
            try:
                parse(path)
            except DefinitionError as err:
                f.refused(path, err)


@dataclass(frozen=True)
class _Sketch:
    """What a cadence or a list needs of a workflow, read from its latest file even when that file
    has problems of its own (so that theirs are found in the same run)."""

    name: str
    version: int
    roles: Mapping[str, str]  # role → kind
    create_fields: frozenset[str]
    create_roles: frozenset[str]
    events: frozenset[str] = frozenset()

    def party_roles(self) -> list[str]:
        return [r for r, kind in self.roles.items() if kind == "party"]


def _sketches(f: _Folder) -> dict[str, _Sketch]:
    out: dict[str, _Sketch] = {}
    for path, doc in f.docs.items():
        if path.parent.name != "definitions" or not isinstance(doc, Mapping):
            continue
        try:
            create = doc.get("create") or {}
            sketch = _Sketch(str(doc["name"]), int(doc.get("version") or 0),
                             {r: (spec or {}).get("kind") for r, spec in (doc.get("roles") or {}).items()},
                             frozenset(_fields_of(create)), frozenset(create.get("roles") or ()),
                             frozenset(e.get("name") for e in doc.get("events") or []))
        except (AttributeError, TypeError, KeyError, ValueError):
            continue
        if sketch.name not in out or out[sketch.name].version < sketch.version:
            out[sketch.name] = sketch
    return out


def _workflow(f: _Folder, path: Path, at: list[Any], name: Any, latest: Mapping[str, _Sketch]) -> _Sketch | None:
    d = latest.get(name)
    if d is None:
        f.add(path, at, f"workflow {name!r} is not defined in this folder{near(name, latest)}",
              f"workflows: {_listed(latest)}")
    return d


def _unit_codes(f: _Folder) -> set[str] | None:
    return {u["code"] for u in f.org.units} if f.org is not None else None


def _cadences(f: _Folder, path: Path, latest: Mapping[str, Any]) -> None:
    from engine.cadences import parse_cadences

    before = len(f.problems)
    units = _unit_codes(f)
    for i, c in enumerate(f.docs[path].get("cadences") or []):
        at = ["cadences", i]
        code = c.get("code")
        d = _workflow(f, path, [*at, "workflow"], c.get("workflow"), latest)
        if units is not None:
            owed = c.get("owed_by")
            named = [("owed_by", u) for u in (owed if isinstance(owed, list) else (owed or {}).get("exclude") or [])]
            named += [("parties", u) for us in (c.get("parties") or {}).values() for u in us]
            for key, u in named:
                if u not in units:
                    f.add(path, [*at, key], f"cadence {code!r} names unknown unit {u!r}{near(u, units)}",
                          "units of organisation.yaml")
        if d is None:
            continue
        party = d.party_roles()
        for role, where in [(c.get("role"), "role"), *((r, "parties") for r in c.get("parties") or {})]:
            if role not in party:
                f.add(path, [*at, where], f"cadence {code!r}: {role!r} is no party role of {d.name}"
                      f"{near(role, party)}", f"party roles: {_listed(party)}")
        create = d.create_fields
        for key in (*CADENCE_FIELDS, *(c.get("payload") or {})):
            if key not in create:
                f.add(path, [*at, "payload", key] if key in (c.get("payload") or {}) else at, f"cadence {code!r} fills {key!r}, which is no create field of {d.name} v{d.version}",
                      f"its create fields: {_listed(create)} (a cadence fills period, due and its payload)")
        if "system" not in d.create_roles:
            f.add(path, [*at, "workflow"], f"cadence {code!r}: {d.name} cannot be opened by the clock",
                  "its create roles must include system")
    if len(f.problems) == before and path not in f.invalid:
        try:
            parse_cadences(path)
        except DefinitionError as err:
            f.refused(path, err)


def _items(f: _Folder, path: Path, latest: Mapping[str, Any]) -> None:
    from engine.items import read_items

    before = len(f.problems)
    doc = f.docs[path]
    units = _unit_codes(f)
    d = _workflow(f, path, ["workflow"], doc.get("workflow"), latest)
    for i, item in enumerate(doc.get("items") or []):
        at = ["items", i]
        for role, codes in (item.get("parties") or {}).items():
            if d is not None and role not in d.party_roles():
                f.add(path, [*at, "parties", role], f"item {item.get('key')!r}: {role!r} is no party role of {d.name}",
                      f"party roles: {_listed(d.party_roles())}")
            for u in codes or []:
                if units is not None and u not in units:
                    f.add(path, [*at, "parties", role], f"item {item.get('key')!r} names unknown unit {u!r}"
                          f"{near(u, units)}", "units of organisation.yaml")
        if d is not None:
            create = d.create_fields
            for key in item.get("fields") or {}:
                if key not in create:
                    f.add(path, [*at, "fields", key], f"item {item.get('key')!r}: {key!r} is no create field of "
                          f"{d.name}{near(key, create)}", f"its create fields: {_listed(create)}")
    if d is not None and "system" not in d.create_roles:
        f.add(path, ["workflow"], f"{d.name} cannot be opened from a list", "its create roles must include system")
    if len(f.problems) == before and path not in f.invalid:
        try:
            read_items(path)
        except DefinitionError as err:
            f.refused(path, err)


def _notifications(f: _Folder, path: Path, latest: Mapping[str, _Sketch]) -> None:
    from engine.notices import _PLACEHOLDER_RE, CLOCK_NOTES, PLACEHOLDERS

    org_roles = f.org.role_codes if f.org is not None else None
    for i, rule in enumerate(f.docs[path].get("notifications") or []):
        at = ["notifications", i]
        code, workflow = rule.get("code"), rule.get("workflow")
        if workflow == "*":
            targets = list(latest.values())
        else:
            d = _workflow(f, path, [*at, "workflow"], workflow, latest)
            targets = [d] if d is not None else []
        if targets:
            causes = {"create", *CLOCK_NOTES, *(e for d in targets for e in d.events)}
            when = rule.get("when")
            if when not in causes:
                f.add(path, [*at, "when"], f"rule {code!r}: when {when!r} is no event of {workflow}"
                      f"{near(when, causes)}", f"create, {', '.join(sorted(CLOCK_NOTES))} or an event of {workflow}")
        for j, r in enumerate(rule.get("to") or []):
            party, role = r.get("party"), r.get("role")
            parties = {p for d in targets for p in d.party_roles()}
            if party is not None and targets and party not in parties:
                f.add(path, [*at, "to", j], f"rule {code!r}: {party!r} is no party role of {workflow}"
                      f"{near(party, parties)}", f"party roles: {_listed(parties)}")
            if role is not None and org_roles is not None and role not in org_roles:
                f.add(path, [*at, "to", j], f"rule {code!r}: {role!r} is no organisation role{near(role, org_roles)}",
                      f"organisation roles: {_listed(org_roles)}")
        for key in ("title", "body"):
            for name in _PLACEHOLDER_RE.findall(str(rule.get(key) or "")):
                if name not in PLACEHOLDERS:
                    f.add(path, [*at, key], f"rule {code!r}: unknown placeholder {{{name}}}{near(name, PLACEHOLDERS)}",
                          "placeholders: " + ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS)))


def _worklist(f: _Folder, path: Path, latest: Mapping[str, _Sketch]) -> None:
    events: dict[str, set[str]] = {}  # a workflow's events in any version
    for p, doc in f.docs.items():
        if p.parent.name == "definitions" and isinstance(doc, Mapping) and isinstance(doc.get("events"), list):
            events.setdefault(doc.get("name"), set()).update(
                e.get("name") for e in doc["events"] if isinstance(e, Mapping))
    optional = f.docs[path].get("optional") or {}
    for workflow, names in optional.items():
        d = _workflow(f, path, ["optional", workflow], workflow, latest)
        if d is None or not isinstance(names, list):
            continue
        for j, name in enumerate(names):
            if name not in events.get(workflow, ()):
                f.add(path, ["optional", workflow, j], f"{workflow} has no event {name!r} in any version"
                      f"{near(name, events.get(workflow, ()))}", f"its events: {_listed(events.get(workflow, ()))}")


def _simulation(f: _Folder, path: Path, latest: Mapping[str, _Sketch]) -> None:
    """Every step of the simulation names a workflow and an event of its latest version."""
    if path in f.invalid:
        return
    events: dict[str, set[str]] = {}
    for p, doc in f.docs.items():
        if p.parent.name == "definitions" and isinstance(doc, Mapping) and isinstance(doc.get("events"), list):
            events.setdefault(doc.get("name"), set()).update(
                e.get("name") for e in doc["events"] if isinstance(e, Mapping))
    for workflow, steps in (f.docs[path].get("workflows") or {}).items():
        if _workflow(f, path, ["workflows", workflow], workflow, latest) is None:
            continue
        for j, step in enumerate(steps):
            name = step.get("event")
            if name not in events.get(workflow, ()):
                f.add(path, ["workflows", workflow, j, "event"], f"{workflow} has no event {name!r}"
                      f"{near(name, events.get(workflow, ()))}", f"its events: {_listed(events.get(workflow, ()))}")


def _figures(f: _Folder, path: Path) -> None:
    """The figures module's own resolution of every name (workflows, states, fields, roles, units, figures)."""
    from engine.figures import parse_figures

    if f.broken_definitions or f.org is None or path in f.invalid:
        return  # names cannot be resolved against definitions that did not load; the schema said what is wrong
    try:
        parse_figures(path, f.definitions, _unit_codes(f) or set())
    except DefinitionError as err:
        f.refused(path, err)


def _demo(f: _Folder, path: Path) -> None:
    if f.org is None:
        return
    units = _unit_codes(f) or set()
    for i, a in enumerate(f.docs[path].get("accounts") or []):
        if a.get("unit") not in units:
            f.add(path, ["accounts", i, "unit"], f"account {a.get('username')!r} is in unknown unit {a.get('unit')!r}"
                  f"{near(a.get('unit'), units)}", "units of organisation.yaml")
        for r in a.get("roles") or []:
            if r not in f.org.role_codes:
                f.add(path, ["accounts", i, "roles"], f"account {a.get('username')!r} holds unknown role {r!r}"
                      f"{near(r, f.org.role_codes)}", f"organisation roles: {_listed(f.org.role_codes)}")
