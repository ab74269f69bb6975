"""Who may name which units into which party role: every place a packaged definition sets a party —
`parties` on opening, create fields, event fields, and the fields a spawn turns into the parties of the
case it opens — tried with a unit of another task force and with a unit its naming rule refuses (kind,
membership, the actor's own unit, the events that alone may set it). The list is generated from the
definitions, so a new field or role is covered without touching this file. Plus the load-time checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import Case
from db.repositories import definitions as defs_repo
from db.repositories.cases import CaseRow
from engine.actors import Actor
from engine.bootstrap import task_force_folders
from engine.definition import Definition, FieldSpec
from engine.errors import DefinitionError, EngineError, UnitNotAllowed
from engine.naming import CREATE, NamingRules, RoleRule, parse_naming
from engine.organisation import Organisation
from engine.publishing import read_task_force
from workflows import ROOT

FOLDERS = {folder.name: read_task_force(folder) for folder in task_force_folders(ROOT)}
ALL_UNITS = {u["code"]: (tf, u) for tf, files in FOLDERS.items() for u in files.organisation.units}


@dataclass(frozen=True)
class Place:
    """One place a definition puts units into a party role."""

    task_force: str
    definition: Definition
    how: str  # "create" or an event name
    field: str  # "parties.<role>", a create or event field, or "<items>.0.<key>" for a spawned record
    workflow: str  # the workflow whose role is set (the spawned one for a spawn)
    role: str
    only: tuple[tuple[str, object], ...] = ()

    @property
    def sets_at(self) -> str:
        """What the rule's `through` sees: the event, or `create` for the case a spawn opens."""
        return CREATE if self.workflow != self.definition.name else self.how

    def __str__(self) -> str:
        return f"{self.task_force}/{self.definition.name}.v{self.definition.version}:{self.how}:{self.field}"


def _places() -> Iterator[Place]:
    for tf, files in FOLDERS.items():
        latest = {d.name: d for d in sorted(files.definitions, key=lambda d: d.version)}
        for d in files.definitions:
            for role, spec in d.roles.items():
                if spec.kind == "party":
                    yield Place(tf, d, CREATE, f"parties.{role}", d.name, role)
            for inv in d.create.effects:
                if inv.name in ("set_party", "add_party"):
                    yield Place(tf, d, CREATE, inv.kwargs()["field"], d.name, inv.kwargs()["role"])
            for e in d.events.values():
                for inv in e.effects:
                    args = inv.kwargs()
                    if inv.name in ("set_party", "add_party"):
                        yield Place(tf, d, e.name, args["field"], d.name, args["role"])
                    if inv.name != "spawn":
                        continue
                    child = latest[args["workflow"]]
                    child_sets = {a.kwargs()["field"]: a.kwargs()["role"] for a in child.create.effects
                                  if a.name in ("set_party", "add_party")}
                    mapped = [(child_sets[f], key) for f, key in (args.get("fields") or {}).items() if f in child_sets]
                    mapped += list((args.get("parties") or {}).items())
                    for role, key in mapped:
                        if key.startswith("@"):
                            continue
                        path = f"{args['items']}.0.{key}" if args.get("items") else key
                        yield Place(tf, d, e.name, path, child.name, role, tuple(sorted((args.get("only") or {}).items())))


PLACES = list(_places())


def test_the_generated_list_covers_the_findings():
    names = {str(p) for p in PLACES}
    # Issue 14: a coordinator at opening; a member's own unit as procuratorate; the spawned hearing's parent field.
    assert "two_lakes/referral.v2:create:parties.coordinator" in names
    assert "two_lakes/pil_case.v1:create:procuratorate" in names
    assert "two_lakes/problem_item.v1:refer_to_procuratorate:procuratorate" in names
    assert "two_lakes/joint_inspection.v1:issue_list:problems.0.responsible_unit" in names
    assert len(PLACES) >= 70 and {p.task_force for p in PLACES} == set(FOLDERS)


def _rule(place: Place) -> RoleRule:
    rule = FOLDERS[place.task_force].naming.rule(place.workflow, place.role)
    assert rule is not None, f"{place}: every party role of a packaged definition has a naming rule"
    return rule


def _units(tf: str) -> list[dict]:
    return FOLDERS[tf].organisation.units


def _fits(rule: RoleRule, unit: dict, actor_unit: str | None) -> bool:
    return ((rule.kinds is None or unit["kind"] in rule.kinds) and (not rule.member or unit["member"])
            and (not rule.own_unit or actor_unit is None or unit["code"] == actor_unit))


def _good(place: Place, actor_unit: str | None) -> str | None:
    rule = _rule(place)
    return next((u["code"] for u in _units(place.task_force) if _fits(rule, u, actor_unit)), None)


def _refused_within(place: Place, actor_unit: str | None) -> str | None:
    """A unit of the task force this place's rule refuses (None when the rule allows every unit)."""
    rule = _rule(place)
    if rule.through is not None and place.sets_at not in rule.through:
        return _good(place, actor_unit) or _units(place.task_force)[0]["code"]
    return next((u["code"] for u in _units(place.task_force) if not _fits(rule, u, actor_unit)), None)


def _other_task_force(tf: str) -> str:
    return next(code for code, (other, _) in ALL_UNITS.items() if other != tf)


def _actor_unit(place: Place) -> str:
    """An acting unit every role the actor itself takes on opening accepts (an office, else any unit)."""
    units = _units(place.task_force)
    return next((u["code"] for u in units if u["kind"] == "office"), units[0]["code"])


def _value(f: FieldSpec, tf: str, fits) -> object:
    simple = {"text": "测试", "string": "测试", "integer": 1, "number": 1.0, "boolean": False, "date": "2026-03-20",
              "datetime": "2026-03-20T10:00:00+08:00", "strings": ["测试"]}
    if f.type in simple:
        return simple[f.type]
    if f.type in ("choice", "choices"):
        return f.choices[0] if f.type == "choice" else [f.choices[0]]
    if f.type in ("unit", "units"):
        code = fits(f.name)
        return code if f.type == "unit" else [code]
    return []  # items


def _payload(fields, place: Place, bad: str, good_for) -> dict:
    """Every required field filled; the place's own field (or record key) names `bad`."""
    head, _, rest = place.field.partition(".0.")
    out: dict = {}
    for f in fields:
        if f.name == head and rest:
            record = {g.name: _value(g, place.task_force, good_for) for g in f.items if g.required}
            sub = next(g for g in f.items if g.name == rest)
            record[rest] = bad if sub.type == "unit" else [bad]
            record.update(dict(place.only))
            out[f.name] = [record]
        elif f.name == head:
            out[f.name] = bad if f.type == "unit" else [bad]
        elif f.required:
            out[f.name] = _value(f, place.task_force, good_for)
    return out


def _good_for(place: Place, fields, actor_unit: str):
    """A unit for another field: one its own role accepts, if it sets one."""
    sets = {}
    for inv in (place.definition.create.effects if place.how == CREATE else place.definition.events[place.how].effects):
        if inv.name in ("set_party", "add_party"):
            sets[inv.kwargs()["field"]] = inv.kwargs()["role"]

    def pick(name: str) -> str:
        if name in sets:
            other = dataclasses.replace(place, field=name, workflow=place.definition.name, role=sets[name])
            return _good(other, actor_unit) or _units(place.task_force)[0]["code"]
        return _ordinary(place.task_force)

    return pick


def _ordinary(tf: str) -> str:
    """A member government (else department): what most roles accept."""
    units = _units(tf)
    return next((u["code"] for kind in ("government", "department") for u in units
                 if u["kind"] == kind and u["member"]), units[0]["code"])


def _definition_id(db, place: Place) -> int:
    with db.read() as conn:
        return defs_repo.find(conn, place.task_force, place.definition.name, place.definition.version).id


def _try(cases, db, place: Place, unit: str, actor_unit: str):
    """Name `unit` at this place; returns the engine's refusal (None when the naming check let it by)."""
    d = place.definition
    if place.how == CREATE:
        actor = Actor.of("t", actor_unit, *[r for r in d.create.roles if r != "system"])
        parties = {place.role: [unit]} if place.field.startswith("parties.") else None
        payload = _payload(d.create.fields, place, unit, _good_for(place, d.create.fields, actor_unit))
        if parties:
            payload = {f.name: _value(f, place.task_force, _good_for(place, d.create.fields, actor_unit))
                       for f in d.create.fields if f.required}
        try:
            with db.write() as conn:
                cases.start(conn, task_force=place.task_force, workflow=d.name, version=d.version, actor=actor,
                            title="授权测试", parties=parties, payload=payload)
                raise _Rollback
        except _Rollback:
            return None
        except EngineError as err:
            return err
    ev = d.events[place.how]
    m_id = _definition_id(db, place)
    with db.read() as conn:
        m = cases.machine(conn, m_id)
    source = next(s for (s, e) in m.dest if e == ev.name)
    # The event's roles held as the actor's own (party roles too), on a case standing in a source state:
    # what is judged here is only the units named.
    actor = Actor.of("t", actor_unit, *ev.roles)
    payload = _payload(ev.fields, place, unit, _good_for(place, ev.fields, actor_unit))
    head, _, rest = place.field.partition(".0.")
    data = {}
    if head not in {f.name for f in ev.fields}:
        # A spawn reading a list an earlier event recorded (a meeting's decisions): it is in the case data.
        data[head] = [{rest: unit, **dict(place.only)}] if rest else unit
    case = CaseRow(-1, "测试", place.task_force, m_id, source, 1, False, "授权测试", data, {}, "0" * 64, None,
                   datetime(2026, 1, 1, tzinfo=UTC))
    try:
        with db.write() as conn:
            cases.fire(conn, case, ev.name, actor, payload)
            raise _Rollback
    except _Rollback:
        return None
    except Exception as err:  # past the naming check, a case standing nowhere fails in any way
        return err


class _Rollback(Exception):
    pass


def _cases_count(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(Case)).scalar_one()


@pytest.mark.parametrize("place", PLACES, ids=str)
def test_every_party_setting_place_refuses_an_unauthorised_unit(cases, db, place):
    actor_unit = _actor_unit(place)
    # Another task force's unit, everywhere.
    stranger = _other_task_force(place.task_force)
    err = _try(cases, db, place, stranger, actor_unit)
    assert isinstance(err, UnitNotAllowed), f"{place}: {stranger} accepted ({err!r})"
    assert err.details["rule"] == "other_task_force" and err.field == place.field
    assert "不是本专班的单位" in err.reason_zh
    # A unit of the task force its rule refuses.
    refused = _refused_within(place, actor_unit)
    if refused is not None:
        err = _try(cases, db, place, refused, actor_unit)
        assert isinstance(err, UnitNotAllowed), f"{place}: {refused} accepted ({err!r})"
        assert err.field == place.field and err.details["role"] == place.role
        assert err.details["rule"] in ("through", "kind", "member", "own_unit", "jurisdiction")
    # And one it allows gets past the naming check (whatever the guards then say).
    rule = _rule(place)
    good = _good(place, actor_unit)
    if good is not None and (rule.through is None or place.sets_at in rule.through):
        err = _try(cases, db, place, good, actor_unit)
        assert not isinstance(err, UnitNotAllowed), f"{place}: {good} refused: {err}"
    assert _cases_count(db) == 0


def test_rules_bind_cases_of_every_version(cases, db):
    """Every published version of the referral follows the same rules (v1 cases still run)."""
    versions = {p.definition.version for p in PLACES if p.definition.name == "referral"}
    packaged = {int(f.name.split(".v")[1].split(".")[0])
                for f in (ROOT / "two_lakes" / "definitions").glob("referral.v*.yaml")}
    assert versions == packaged and {1, 2, 3} <= versions


# --- load-time checks -------------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "naming.yaml"
    path.write_text(text, encoding="utf-8")
    return path


TWO_LAKES = FOLDERS["two_lakes"]
PACKAGED = (ROOT / "two_lakes" / "naming.yaml").read_text(encoding="utf-8")


def _load(tmp_path: Path, text: str, org: Organisation | None = None) -> NamingRules:
    return parse_naming(_write(tmp_path, text), TWO_LAKES.definitions, org or TWO_LAKES.organisation)


def test_packaged_rules_parse_and_cover_every_party_role():
    for tf, files in FOLDERS.items():
        assert files.naming.declared, f"{tf} has a naming.yaml"
        for d in files.definitions:
            for role, spec in d.roles.items():
                if spec.kind == "party":
                    assert files.naming.rule(d.name, role) is not None, (tf, d.name, role)


@pytest.mark.parametrize("change, problem", [
    # A party role left without a rule.
    ("    coordinator: {kinds: [office], through: [report_to_office, object]}\n", "'coordinator' has no rule"),
])
def test_a_missing_rule_is_an_error(tmp_path, change, problem):
    with pytest.raises(DefinitionError, match=problem):
        _load(tmp_path, PACKAGED.replace(change, ""))


@pytest.mark.parametrize("old, new, problem", [
    ("coordinator: {kinds: [office], through: [report_to_office, object]}",
     "coordinator: {kinds: [office], through: [report_to_office]}", "object sets 'coordinator'"),
    ("coordinator: {kinds: [office], through: [report_to_office, object]}",
     "coordinator: {kinds: [department], through: [report_to_office, object]}", "two_lakes_office"),
    ("coordinator: {kinds: [office], through: [report_to_office, object]}",
     "coordinator: {kinds: [office], through: [report_to_office, object, fly]}", "through lists events"),
    ("coordinator: {kinds: [office], through: [report_to_office, object]}",
     "coordinator: {kinds: [bureau]}", "kinds entry 'bureau' is not allowed — allowed: government, department"),
    ("coordinator: {kinds: [office], through: [report_to_office, object]}",
     "coordinator: {colour: red}", "unknown key"),
    ("coordinator: {kinds: [office], through: [report_to_office, object]}",
     "coordinator: {within: [atlantis]}", "within lists jurisdiction codes"),
    ("coordinator: {kinds: [office], through: [report_to_office, object]}",
     "coordinator: {kinds: [office], through: [report_to_office, object]}\n    judge: {}", "no party role 'judge'"),
    # The clock's ladder copies the coordinator into `supervised`: the kinds must fit.
    ("supervised: {kinds: [government, department, office], through: [create]}",
     "supervised: {kinds: [government, department], through: [create]}", "supervision.supervised"),
    # A spawned hearing's procuratorate is opened by the spawn: the rule must allow `create`.
    ("procuratorate: {kinds: [procuratorate], own_unit: true, through: [create]}",
     "procuratorate: {kinds: [procuratorate], own_unit: true, through: [fly]}", "through lists events"),
    ("agency: {kinds: [government, department], through: [create]}\n  joint",
     "agency: {kinds: [government, department], through: []}\n  joint", "spawn opens hearing with 'agency'"),
    # Work that belongs to no one: the meeting's hold_by runs from its opening, owed by its organiser.
    ("organiser: {kinds: [government, department, office], member: true, through: [create]}\n    invited",
     "organiser: {kinds: [government, department, office], member: true, through: [issue_notice]}\n    invited",
     "deadline 'hold_by' starts when the case opens and is owed by 'organiser'"),
])
def test_rules_that_contradict_the_definitions_are_errors_with_their_line(tmp_path, old, new, problem):
    assert old in PACKAGED
    with pytest.raises(DefinitionError, match=problem) as info:
        _load(tmp_path, PACKAGED.replace(old, new, 1))
    assert str(info.value).startswith(str(tmp_path / "naming.yaml"))


def test_a_bad_rule_names_its_line(tmp_path):
    text = PACKAGED.replace("coordinator: {kinds: [office], through: [report_to_office, object]}",
                            "coordinator: {kinds: [bureau]}")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "coordinator: {kinds: [bureau]}" in t)
    with pytest.raises(DefinitionError) as info:
        _load(tmp_path, text)
    assert info.value.line == line


def test_no_file_means_only_the_task_force_check(tmp_path):
    rules = parse_naming(tmp_path / "absent.yaml", TWO_LAKES.definitions, TWO_LAKES.organisation)
    assert not rules.declared and rules.rule("referral", "receiver") is None


# --- jurisdiction and the actor's jurisdiction, on the toy task force's units ----------------------


def test_within_a_jurisdiction_and_the_actors_own(cases, db):
    """`within` takes jurisdictions and everything below them, or the actor's own (`@actor`)."""
    from engine.naming import Naming, store_naming

    toy = read_task_force(Path(__file__).resolve().parents[1] / "fixtures" / "toy")
    with db.read() as conn:
        d = cases.machine(conn, defs_repo.find(conn, "toy", "ticket", None).id).definition
    party = next(r for r, s in d.roles.items() if s.kind == "party")
    city_b = Actor.of("b", "t_b_gov", "member")
    office = Actor.of("o", "t_office", "office")  # at the root: everything lies below it
    trials = [
        (["t_b"], city_b, ["t_b_gov", "t_b_bureau"], ["t_a_bureau", "t_office"]),
        (["t_root"], city_b, ["t_a_bureau", "t_b_bureau", "t_office"], []),
        (["@actor"], city_b, ["t_b_bureau"], ["t_a_bureau"]),
        (["@actor"], office, ["t_a_bureau", "t_b_gov"], []),
    ]
    try:
        for within, actor, ok, refused in trials:
            with db.write() as conn:
                store_naming(conn, "toy", NamingRules({"ticket": {party: RoleRule(within=tuple(within))}}, True))
            cases.naming = Naming()  # re-read now rather than within 30 s
            with db.read() as conn:
                for unit in ok:
                    cases.naming.check_role(conn, "toy", d, party, [unit], how=CREATE, actor=actor, field="f")
                for unit in refused:
                    with pytest.raises(UnitNotAllowed, match="lies outside") as info:
                        cases.naming.check_role(conn, "toy", d, party, [unit], how=CREATE, actor=actor, field="f")
                    assert info.value.details["rule"] == "jurisdiction" and "辖区内" in info.value.reason_zh
    finally:
        with db.write() as conn:
            store_naming(conn, "toy", toy.naming)
