"""The value generators of a simulation file: payloads, titles and conditions built from data.

A value in `simulation.yaml` is a literal, a list or mapping of values, or a mapping with exactly one
key starting with `$` naming a generator from the allow-list below (`$pick`, `$days`, `$data` …). No
expression is parsed or evaluated: each generator is a Python function reading its arguments, and an
unknown name is refused when the file is read. Every random draw comes from the simulation's one RNG,
in the order the values are written, so a seed gives the same year.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from engine.localtime import LOCAL_TZ, local_date

if TYPE_CHECKING:
    from db.repositories.cases import CaseRow
    from simulation.driver import Sim


class Unavailable(Exception):
    """A value cannot be built now (a query found nothing): the step does not apply."""


class Scope:
    """What a value is built against: the simulation, the case acted on (if any), bound variables."""

    def __init__(self, sim: Sim, case: CaseRow | None, bound: dict[str, Any] | None = None) -> None:
        self.sim, self.case, self.bound = sim, case, bound or {}

    def bind(self, **more: Any) -> Scope:
        return Scope(self.sim, self.case, {**self.bound, **more})


def value(spec: Any, scope: Scope) -> Any:
    """Build the value `spec` describes."""
    if isinstance(spec, list):
        return [value(v, scope) for v in spec]
    if isinstance(spec, dict):
        op = next((k for k in spec if isinstance(k, str) and k.startswith("$")), None)
        if op is None:
            return {k: value(v, scope) for k, v in spec.items()}
        return GENERATORS[op](spec, scope)
    return spec


def check(spec: Any, where: str) -> list[str]:
    """Names of unknown generators in `spec` (for the file's load check)."""
    if isinstance(spec, list):
        return [e for v in spec for e in check(v, where)]
    if isinstance(spec, dict):
        out = [f"{where}: unknown generator {k}" for k in spec if isinstance(k, str) and k.startswith("$")
               and k not in GENERATORS]
        return out + [e for v in spec.values() for e in check(v, where)]
    return []


def _case(scope: Scope) -> CaseRow:
    if scope.case is None:
        raise Unavailable("no case")
    return scope.case


def _path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list | tuple) and part.isdigit():
            obj = obj[int(part)] if int(part) < len(obj) else None
        else:
            return None
    return obj


# --- generators -------------------------------------------------------------------------------


def g_pick(spec, scope):
    """One of a list (or a pool's), optionally weighted."""
    options = value(spec["$pick"], scope)
    if isinstance(options, str):
        options = scope.sim.pools[options]
    without = value(spec.get("except", []), scope) or []
    options = [o for o in options if o not in without]
    if not options:
        raise Unavailable("nothing to pick")
    weights = spec.get("weights")
    return scope.sim.rng.choices(options, weights)[0] if weights else scope.sim.rng.choice(options)


def g_sample(spec, scope):
    """`n` distinct items of a list or pool, n drawn from [lo, hi]."""
    options = value(spec["$sample"], scope)
    if isinstance(options, str):
        options = scope.sim.pools[options]
    lo, hi = spec["n"] if isinstance(spec["n"], list) else (spec["n"], spec["n"])
    return scope.sim.rng.sample(sorted(options) if spec.get("sorted") else list(options),
                                scope.sim.rng.randint(lo, hi) if lo != hi else lo)


def g_int(spec, scope):
    lo, hi = spec["$int"]
    return scope.sim.rng.randint(lo, hi)


def g_chance(spec, scope):
    return scope.sim.rng.random() < spec["$chance"]


def g_roll(spec, scope):
    return scope.sim.rng.random()


def g_days(spec, scope):
    """An ISO date this many days after today (a range: drawn)."""
    days = spec["$days"]
    n = scope.sim.rng.randint(*days) if isinstance(days, list) else days
    return (scope.sim.today + timedelta(days=n)).isoformat()


def g_after_due(spec, scope):
    """An ISO date this many days after the case's due date."""
    return (local_date(_case(scope).due_at) + timedelta(days=spec["$after_due"])).isoformat()


def g_moment(spec, scope):
    """An ISO moment `days` after today (moved to a working day when asked) at `at` (HH:MM)."""
    day = scope.sim.today + timedelta(days=value(spec["$moment"], scope))
    if spec.get("working_day"):
        day = scope.sim.workday(day)
    hh, mm = (int(x) for x in value(spec.get("at", "09:00"), scope).split(":"))
    return datetime.combine(day, time(hh, mm), tzinfo=LOCAL_TZ).isoformat()


def g_date_of(spec, scope):
    """The ISO date of an ISO date or moment, shifted by `days`."""
    raw = value(spec["$date_of"], scope)
    day = date.fromisoformat(raw[:10])
    return (day + timedelta(days=spec.get("days", 0))).isoformat()


def g_today(spec, scope):
    """Today, ISO or in a strftime `format`."""
    fmt = spec["$today"]
    return scope.sim.today.strftime(fmt) if isinstance(fmt, str) else scope.sim.today.isoformat()


def g_year(spec, scope):
    return scope.sim.year


def g_data(spec, scope):
    """A value of the case's data (dotted path), else `default`."""
    got = _path(_case(scope).data, spec["$data"])
    return value(spec.get("default"), scope) if got is None else got


def g_last(spec, scope):
    """A value from the case's latest event payload that carried it."""
    got = scope.sim.last(_case(scope), spec["$last"])
    return value(spec.get("default"), scope) if got is None else got


def g_case(spec, scope):
    """An attribute of the case: number, title, id."""
    return getattr(_case(scope), spec["$case"])


def g_party(spec, scope):
    """The first unit holding a party role on the case, else `default`."""
    units = _case(scope).parties.get(spec["$party"]) or []
    return units[0] if units else value(spec.get("default"), scope)


def g_parties(spec, scope):
    return list(_case(scope).parties.get(spec["$parties"]) or value(spec.get("default", []), scope))


def g_var(spec, scope):
    """A bound variable (dotted path into it)."""
    name, _, rest = spec["$var"].partition(".")
    got = scope.bound[name]
    return _path(got, rest) if rest else got


def g_let(spec, scope):
    """Bind names in order, then build `in`."""
    for name, v in spec["$let"].items():
        scope = scope.bind(**{name: value(v, scope)})
    return value(spec["in"], scope)


def g_repeat(spec, scope):
    """A list of `item`s, as many as drawn from `counts` (with `weights`)."""
    counts = spec["$repeat"]
    n = (scope.sim.rng.choices(counts, spec.get("weights"))[0] if isinstance(counts, list)
         else scope.sim.rng.randint(*counts["between"]))
    return [value(spec["item"], scope.bind(index=i)) for i in range(n)]


def g_each(spec, scope):
    """`item` for each element of a list bound as `as` (default `it`), those with `where` set."""
    out = []
    for element in value(spec["$each"], scope) or []:
        if spec.get("where") and not _path(element, spec["where"]):
            continue
        out.append(value(spec["item"], scope.bind(**{spec.get("as", "it"): element})))
    return out


def g_concat(spec, scope):
    return [x for part in value(spec["$concat"], scope) for x in (part or [])]


def g_format(spec, scope):
    """`{name}` placeholders filled from `with` (values built first)."""
    args = {k: value(v, scope) for k, v in (spec.get("with") or {}).items()}
    return spec["$format"].format(**args)


def g_if(spec, scope):
    return value(spec["then"] if condition(spec["$if"], scope) else spec.get("else"), scope)


def g_max(spec, scope):
    return max(value(spec["$max"], scope))


def g_map(spec, scope):
    """Look a key up in a table (`$map`), else `default`."""
    table = spec["$map"]
    key = value(spec["key"], scope)
    return value(table[key] if key in table else spec.get("default"), scope)


def g_unit(spec, scope):
    """A unit drawn from a named set, narrowed to a top-level jurisdiction and without some units."""
    sim = scope.sim
    city = value(spec.get("city"), scope)
    without = set(value(spec.get("except", []), scope) or [])
    options = [u for u in sim.unit_set(spec["$unit"]) if (city is None or sim.units[u][1] == city)
               and u not in without]
    if not options:
        raise Unavailable(f"no unit in {spec['$unit']}")
    return sim.rng.choice(options)


def g_units(spec, scope):
    """Every unit of a named set (sorted), less some."""
    without = set(value(spec.get("except", []), scope) or [])
    return [u for u in scope.sim.unit_set(spec["$units"]) if u not in without]


def g_city(spec, scope):
    """The top-level jurisdiction of a unit, else `default`."""
    unit = value(spec["$city"], scope)
    return scope.sim.units.get(unit, ("", None))[1] or value(spec.get("default"), scope)


def g_name(spec, scope):
    """A unit's short name."""
    return scope.sim.name(value(spec["$name"], scope))


def g_member_units(spec, scope):
    """The task force's member units (sorted), less the office."""
    return sorted(scope.sim.members)


def g_stubborn(spec, scope):
    return scope.sim.stubborn


def g_query(spec, scope):
    """The first case number a named query finds; else `otherwise` (e.g. a case opened for it)."""
    found = scope.sim.query(spec["$query"], scope.case)
    if found:
        return found[0]
    if "otherwise" in spec:
        return value(spec["otherwise"], scope)
    raise Unavailable(f"query {spec['$query']} found nothing")


def g_start(spec, scope):
    """Open a case now (see Sim.start_from); its number."""
    return scope.sim.start_from(spec["$start"], scope).number


def g_case_data(spec, scope):
    """A data value of another case, found by its number."""
    number, key = value(spec["$case_data"], scope)
    got = scope.sim.case_by_number(number).data.get(key)
    return value(spec.get("default"), scope) if got is None else got


def g_pool(spec, scope):
    """A pool of the file, or one entry of a pool that is a table (`key`)."""
    pool = scope.sim.pools[spec["$pool"]]
    return pool[value(spec["key"], scope)] if "key" in spec else pool


def g_len(spec, scope):
    return len(value(spec["$len"], scope) or [])


def g_union(spec, scope):
    """The distinct elements of several lists, sorted, less `except`."""
    without = set(value(spec.get("except", []), scope) or [])
    return sorted({x for part in value(spec["$union"], scope) for x in (part or []) if x not in without})


def g_merge(spec, scope):
    """Mappings merged left to right (a null part adds nothing)."""
    out: dict[str, Any] = {}
    for part in value(spec["$merge"], scope):
        out.update(part or {})
    return out


def g_keep(spec, scope):
    """Each element kept with probability `chance`; the first when none is kept."""
    items = value(spec["$keep"], scope) or []
    kept = [x for x in items if scope.sim.rng.random() < spec["chance"]]
    return kept or items[:1]


GENERATORS: dict[str, Callable[[dict, Scope], Any]] = {
    "$" + name[2:]: fn for name, fn in list(globals().items()) if name.startswith("g_")}


# --- conditions -------------------------------------------------------------------------------


def condition(spec: Any, scope: Scope) -> bool:
    """A condition: a mapping of tests, all of which must hold (`any` / `not` combine)."""
    if spec is None:
        return True
    if isinstance(spec, list):
        return all(condition(s, scope) for s in spec)
    if isinstance(spec, bool):
        return spec
    return all(TESTS[name](arg, scope) for name, arg in spec.items())


def t_any(arg, scope):
    return any(condition(s, scope) for s in arg)


def t_not(arg, scope):
    return not condition(arg, scope)


def t_chance(arg, scope):
    return scope.sim.rng.random() < arg


def _bound(scope, name):
    return g_var({"$var": name}, scope)


def t_var(arg, scope):
    """A bound variable is truthy."""
    return bool(_bound(scope, arg))


def t_var_equal(arg, scope):
    """Two bound variables are equal: [a, b]."""
    return _bound(scope, arg[0]) == _bound(scope, arg[1])


def t_var_below(arg, scope):
    return all(_bound(scope, k) < v for k, v in arg.items())


def t_var_above(arg, scope):
    return all(_bound(scope, k) > v for k, v in arg.items())


def t_ends(arg, scope):
    """Data strings end with the text given: {key: suffix}."""
    return all(str(_path(_case(scope).data, k) or "").endswith(v) for k, v in arg.items())


def t_has_party(arg, scope):
    """Some unit holds this party role on the case."""
    return bool(_case(scope).parties.get(arg))


def t_set(arg, scope):
    """The case's data holds a truthy value at each path."""
    return all(_path(_case(scope).data, k) for k in ([arg] if isinstance(arg, str) else arg))


def t_unset(arg, scope):
    return not any(_path(_case(scope).data, k) for k in ([arg] if isinstance(arg, str) else arg))


def t_data(arg, scope):
    """Data values equal (a list: one of)."""
    data = _case(scope).data
    return all(_path(data, k) in (v if isinstance(v, list) else [v]) for k, v in arg.items())


def t_fewer(arg, scope):
    """Fewer than n elements in a data list: {key: n}."""
    return all(len(_path(_case(scope).data, k) or []) < n for k, n in arg.items())


def t_due_in_over(arg, scope):
    """The due date is more than `arg` days away."""
    case = _case(scope)
    return case.due_at is not None and case.due_at - scope.sim.now() > timedelta(days=arg)


def t_last(arg, scope):
    """The latest payload value of each key equals the one given."""
    return all(scope.sim.last(_case(scope), k) == v for k, v in arg.items())


def t_no_link(arg, scope):
    """The case has no link of this kind."""
    return arg not in scope.sim.link_kinds(_case(scope))


def t_stubborn(arg, scope):
    """The unit holding this party role is the persistently late one."""
    return (_case(scope).parties.get(arg) or [None])[0] == scope.sim.stubborn


def t_party_kind(arg, scope):
    """The unit holding the role is of one of these kinds: {role: [kind, ...]}."""
    sim, case = scope.sim, _case(scope)
    return all(sim.units.get((case.parties.get(r) or [None])[0], ("",))[0] in kinds for r, kinds in arg.items())


def t_found(arg, scope):
    """A named query finds at least one case."""
    return bool(scope.sim.query(arg, scope.case))


TESTS: dict[str, Callable[[Any, Scope], bool]] = {
    name[2:]: fn for name, fn in list(globals().items()) if name.startswith("t_")}
