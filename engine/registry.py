"""The allow-list: definitions name guards and effects; only what is registered here can run.

Guards and effects are generic (they speak of fields, roles, dates), never of a mechanism.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from db.repositories import cases as cases_repo
from db.repositories import time as time_repo
from db.repositories import units as units_repo
from engine.context import FireContext
from engine.deadlines import SYSTEM_ACTOR
from engine.errors import GuardFailed
from engine.localtime import moment_of, start_of_local_day, to_local


@dataclass(frozen=True)
class Named:
    name: str
    fn: Callable[..., Any]
    required: frozenset[str]
    optional: frozenset[str]
    doc: str
    # Reaches other cases (opens, links, fires): runs once the event is written and is never replayed.
    cross: bool = False

    def check_args(self, args: Mapping[str, Any]) -> str | None:
        missing = sorted(self.required - set(args))
        if missing:
            return f"missing argument(s) {', '.join(missing)}"
        extra = sorted(set(args) - self.required - self.optional)
        if extra:
            return f"unknown argument(s) {', '.join(extra)}; takes {', '.join(sorted(self.required | self.optional))}"
        if "where" in args and (not isinstance(args["where"], Mapping) or not args["where"]):
            return "where must map payload or case data keys to the values that let it apply"
        return None


_GUARDS: dict[str, Named] = {}
_EFFECTS: dict[str, Named] = {}


def value_of(ctx: FireContext, key: str) -> Any:
    """A value from the event's payload, else from the case data."""
    return ctx.payload[key] if key in ctx.payload else ctx.data.get(key)


def _applies(ctx: FireContext, where: Mapping[str, Any]) -> bool:
    """Every key has the given value (or one of the values in a list)."""
    for key, expected in where.items():
        value = value_of(ctx, key)
        if not (value in expected if isinstance(expected, list) else value == expected):
            return False
    return True


def _register(table: dict[str, Named], name: str, cross: bool = False):
    def deco(fn):
        params = [p for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY]

        # Every guard and effect may be made conditional: `where: {kind: plenary}` applies it only then.
        @functools.wraps(fn)
        def run(ctx: FireContext, *, where: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
            if where is not None and not _applies(ctx, where):
                return None
            return fn(ctx, **kwargs)

        table[name] = Named(
            name,
            run,
            frozenset(p.name for p in params if p.default is p.empty),
            frozenset(p.name for p in params if p.default is not p.empty) | {"where"},
            (fn.__doc__ or "").strip(),
            cross,
        )
        return fn

    return deco


def guard(name: str):
    """Register a guard: fn(ctx, **args) returns None when it holds, or the reason it does not."""
    return _register(_GUARDS, name)


def effect(name: str):
    """Register an effect: fn(ctx, **args) changes the case through ctx, inside the event's transaction."""
    return _register(_EFFECTS, name)


def cross_effect(name: str):
    """Register an effect on other cases: fn(ctx, **args) runs after the event's row is written, in its
    transaction, with ctx.cases the case service. Replaying a case's data never runs it."""
    return _register(_EFFECTS, name, cross=True)


def guards() -> Mapping[str, Named]:
    return _GUARDS


def effects() -> Mapping[str, Named]:
    return _EFFECTS


# --- guards -----------------------------------------------------------------------------------


@guard("field_not_party")
def field_not_party(ctx: FireContext, *, field: str, role: str) -> str | None:
    """The unit(s) named in a payload field are not already the case's `role` party."""
    value = ctx.payload.get(field)
    named = value if isinstance(value, list) else [value]
    clash = [u for u in named if u in ctx.parties.get(role, [])]
    return f"{', '.join(clash)} is already the {role} of this case" if clash else None


@guard("actor_not_party")
def actor_not_party(ctx: FireContext, *, role: str) -> str | None:
    """The acting unit is not the case's `role` party (for example: the verifier is not the rectifier)."""
    if ctx.actor.unit in ctx.parties.get(role, []):
        return f"unit {ctx.actor.unit} is the {role} of this case and cannot do this itself"
    return None


@guard("flag_unset")
def flag_unset(ctx: FireContext, *, flag: str, reason: str = "") -> str | None:
    """A case data flag is not set."""
    if ctx.data.get(flag):
        return reason or f"the case is marked {flag}"
    return None


@guard("flag_set")
def flag_set(ctx: FireContext, *, flag: str, reason: str = "") -> str | None:
    """A case data flag is set."""
    if not ctx.data.get(flag):
        return reason or f"the case is not marked {flag}"
    return None


@guard("before_due")
def before_due(ctx: FireContext) -> str | None:
    """The case's current due date has not passed."""
    if ctx.due_at is not None and ctx.now >= ctx.due_at:
        return f"办理期限{ctx.zh_date(ctx.due_at)}已过 / the due date {ctx.due_at.isoformat()} has passed"
    return None


@guard("field_after")
def field_after(ctx: FireContext, *, field: str, than: str = "due", days: int = 1, reason: str = "") -> str | None:
    """A payload date lies at least `days` (default 1) calendar days after the case's due date
    (than: due) or after today (than: now) — e.g. a hearing notified at least 3 days ahead."""
    value = ctx.payload.get(field)
    if value is None:
        return None
    limit = ctx.due_at if than == "due" else ctx.now
    if limit is None:
        return None
    earliest = ctx.local_date(limit) + timedelta(days=days)
    if _local_day(value) < earliest:
        return reason or (f"{ctx.title(field)}（{_zh_day_or_time(ctx, value)}）不得早于{ctx.zh_date(earliest)}"
                          f" / {field} {value} must be on or after {earliest.isoformat()}")
    return None


def _zh_day_or_time(ctx: FireContext, value: Any) -> str:
    return ctx.zh_datetime(value) if isinstance(value, datetime) or len(str(value)) > 10 else ctx.zh_date(value)


@guard("not_before")
def not_before(ctx: FireContext, *, field: str, reason: str = "") -> str | None:
    """The moment a payload (else case data) date or date-time names has come: a meeting is held,
    a hearing heard, only once its time is reached. A date alone counts from that day's start."""
    value = value_of(ctx, field)
    if value in (None, ""):
        return None
    if isinstance(value, datetime) or (isinstance(value, str) and len(value) > 10):
        moment = moment_of(value)
    else:
        moment = start_of_local_day(_as_date(value))
    if ctx.now < moment:
        local = to_local(moment)
        when = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
        return f"{reason or '时间未到，暂不能办理'}（{when}）"
    return None


def _local_day(value: Any) -> date:
    """The local day of a payload date, or of a date-time (which may carry its own zone)."""
    if isinstance(value, datetime) or (isinstance(value, str) and len(value) > 10):
        return FireContext.local_date(moment_of(value))
    return _as_date(value)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@guard("within_deadline")
def within_deadline(ctx: FireContext, *, deadline: str, reason: str = "") -> str | None:
    """A named deadline of the case is running and has not expired (e.g. an objection window)."""
    row = time_repo.get_deadline(ctx.conn, ctx.case_id, deadline)
    if row is None or row.status not in ("running", "paused") or ctx.now > row.due_at:
        return reason or f"the deadline {deadline!r} is not running"
    return None


@guard("past_due")
def past_due(ctx: FireContext, *, reason: str = "") -> str | None:
    """The case's current due date has passed (e.g. only a persistently late item goes further)."""
    if ctx.due_at is None or ctx.now < ctx.due_at:
        return reason or "办理期限尚未届满 / the case is not past its due date"
    return None


@guard("field_in")
def field_in(ctx: FireContext, *, field: str, values: list[Any], reason: str = "") -> str | None:
    """A payload (else case data) value is one of `values`."""
    value = value_of(ctx, field)
    if value not in values:
        return reason or (f"{ctx.title(field)}不符合办理条件 / {field} is {value!r}, "
                          f"not one of {', '.join(map(str, values))}")
    return None


@guard("field_present")
def field_present(ctx: FireContext, *, field: str, reason: str = "") -> str | None:
    """A payload (else case data) value is given and not empty."""
    if value_of(ctx, field) in (None, "", []):
        return reason or f"此处须填写{ctx.title(field)} / {field} is required here"
    return None


@guard("min_count")
def min_count(ctx: FireContext, *, field: str, count: int, kinds: list[str] | None = None,
              reason: str = "") -> str | None:
    """A list (payload, else case data) holds at least `count` distinct entries; with `kinds`, only
    units of those kinds count (e.g. at least two departments take part)."""
    value = value_of(ctx, field) or []
    # Records (dicts) count once each however often repeated, like names.
    entries = {json.dumps(v, sort_keys=True, ensure_ascii=False) if isinstance(v, dict) else v
               for v in (value if isinstance(value, list) else [value])}
    if kinds:
        facts = units_repo.facts(ctx.conn, entries)
        entries = {u for u in entries if u in facts and facts[u][0] in kinds}
    if len(entries) < count:
        return reason or (f"{ctx.title(field)}至少{count}项，现有{len(entries)}项"
                          f" / {field} needs at least {count}, has {len(entries)}")
    return None


@guard("units_within")
def units_within(ctx: FireContext, *, field: str, role: str, reason: str = "") -> str | None:
    """Every unit in a payload field is already the case's `role` party (e.g. observers were invited)."""
    value = ctx.payload.get(field) or []
    outside = [u for u in (value if isinstance(value, list) else [value]) if u not in ctx.parties.get(role, [])]
    if outside:
        return reason or f"{', '.join(outside)} is not the {role} of this case"
    return None


@guard("actor_is_party")
def actor_is_party(ctx: FireContext, *, role: str, reason: str = "") -> str | None:
    """The acting unit is the case's `role` party (an organisation role alone is not enough)."""
    if ctx.actor.unit not in ctx.parties.get(role, []):
        return reason or f"only the {role} of this case may do this"
    return None


@guard("actor_holds")
def actor_holds(ctx: FireContext, *, role: str, reason: str = "") -> str | None:
    """The acting account holds an organisation role (e.g. the 检察长 of the case's own procuratorate,
    when the event's roles name the party)."""
    if role not in ctx.actor.roles:
        return reason or f"only a holder of the role {role!r} may do this"
    return None


@guard("same_top_jurisdiction")
def same_top_jurisdiction(ctx: FireContext, *, field: str, role: str, reason: str = "") -> str | None:
    """The unit(s) in a payload field sit under the same top-level jurisdiction (city, new area) as
    the case's `role` party; a unit at the root (the province, the office) matches any."""
    value = ctx.payload.get(field)
    named = value if isinstance(value, list) else [value]
    here = ctx.parties.get(role, [])
    facts = units_repo.facts(ctx.conn, [*named, *here])
    tops = {facts[u][1] for u in [*named, *here] if u in facts and facts[u][1] is not None}
    if len(tops) > 1:
        return reason or f"{', '.join(named)} and the {role} lie in different jurisdictions ({', '.join(sorted(tops))})"
    return None


@guard("case_ref")
def case_ref(ctx: FireContext, *, field: str, workflow: str | None = None, states: list[str] | None = None,
             event: str | None = None, reason: str = "") -> str | None:
    """A payload (else case data) value is the number of another case of this task force: of
    `workflow`, in one of `states`, one where the clock may now fire `event`."""
    number = value_of(ctx, field)
    if number is None:
        return None
    try:
        _other(ctx, number, workflow, states, event)
    except GuardFailed as exc:
        return reason or exc.reason
    return None


@guard("linked_done")
def linked_done(ctx: FireContext, *, kind: str, states: list[str] | None = None, reason: str = "") -> str | None:
    """Every case this one links to by `kind` is closed, or in one of `states`."""
    open_ = [number for _, number, state, closed in time_repo.linked_from(ctx.conn, ctx.case_id, kind)
             if not closed and state not in (states or ())]
    if open_:
        return reason or f"linked {kind} case(s) still open: {', '.join(open_)}"
    return None


def _other(ctx: FireContext, number: Any, workflow: str | None, states: list[str] | None,
           event: str | None) -> cases_repo.CaseRef:
    """The case a payload names, checked; GuardFailed says what is wrong with it."""
    here = cases_repo.load(ctx.conn, ctx.case_id)
    ref = cases_repo.find_by_number(ctx.conn, str(number), here.task_force_code) if here is not None else None
    if ref is None or here is None or ref.id == ctx.case_id:
        raise GuardFailed("case_ref", f"no other case {number} in this task force")
    if workflow and ref.workflow != workflow:
        raise GuardFailed("case_ref", f"{number} is a {ref.workflow} case, not {workflow}")
    if states and ref.state not in states:
        raise GuardFailed("case_ref", f"{number} is in state {ref.state!r}, not {', '.join(states)}")
    if event:
        cases = ctx.cases
        other = cases_repo.load(ctx.conn, ref.id)
        if event not in cases.machine(ctx.conn, other.definition_id).allowed(other.state,
                                                                             SYSTEM_ACTOR.roles_on(other.parties)):
            raise GuardFailed("case_ref", f"{number} cannot take {event!r} in state {ref.state!r}")
    return ref


# --- effects ----------------------------------------------------------------------------------


@effect("set_party")
def set_party(ctx: FireContext, *, role: str, field: str) -> None:
    """The unit(s) in a payload field become the case's `role` party (replacing any before)."""
    value = ctx.payload.get(field)
    if value is not None:
        ctx.set_party(role, value if isinstance(value, list) else [value])


@effect("add_party")
def add_party(ctx: FireContext, *, role: str, field: str) -> None:
    """The unit(s) in a payload field join the case's `role` party."""
    value = ctx.payload.get(field)
    if value is not None:
        current = list(ctx.parties.get(role, []))
        for unit in value if isinstance(value, list) else [value]:
            if unit not in current:
                current.append(unit)
        ctx.set_party(role, current)


@effect("actor_as_party")
def actor_as_party(ctx: FireContext, *, role: str) -> None:
    """The acting unit becomes the case's `role` party."""
    if ctx.actor.unit:
        ctx.set_party(role, [ctx.actor.unit])


@effect("set_flag")
def set_flag(ctx: FireContext, *, flag: str, value: Any = True) -> None:
    """Set a case data flag to a constant."""
    ctx.set_data(flag, value)


@effect("record")
def record(ctx: FireContext, *, field: str, key: str = "") -> None:
    """Copy a payload field into the case data (under `key`, default the field's name)."""
    if field in ctx.payload:
        ctx.set_data(key or field, ctx.payload[field])


@effect("add_units")
def add_units(ctx: FireContext, *, role: str, units: list[str]) -> None:
    """Named units join the case's `role` party (e.g. those a major agenda item brings in)."""
    current = list(ctx.parties.get(role, []))
    added = [u for u in units if u not in current]
    if added:
        ctx.set_party(role, current + added)


@effect("increment")
def increment(ctx: FireContext, *, key: str, by: int = 1) -> None:
    """Add to a counter in the case data (relapses, returns for redo)."""
    ctx.set_data(key, int(ctx.data.get(key) or 0) + by)


# --- effects on other cases ---------------------------------------------------------------------
# Mapping values name a key of the item (or of the payload, else the case data), or one of:
#   @actor   the acting unit          @number  this case's number          @title  this case's title

def _source(ctx: FireContext, here: cases_repo.CaseRow, record: Mapping[str, Any] | None, key: str) -> Any:
    """A special name, else a key of the record — or, with no record, of the payload, else the case data."""
    if key == "@actor":
        return ctx.actor.unit
    if key == "@number":
        return here.number
    if key == "@title":
        return here.title
    return value_of(ctx, key) if record is None else record.get(key)


def _as_units(value: Any) -> list[str]:
    if value in (None, "", []):
        return []
    return list(value) if isinstance(value, list) else [value]


@cross_effect("spawn")
def spawn(ctx: FireContext, *, workflow: str, link: str, items: str | None = None,
          only: Mapping[str, Any] | None = None, title: str | None = None, fields: Mapping[str, str] | None = None,
          parties: Mapping[str, str] | None = None, inherit: Mapping[str, str] | None = None,
          constants: Mapping[str, Any] | None = None) -> None:
    """Open a linked case of `workflow` for each record of the list `items` (matching `only`), or one
    from the payload: its create fields and parties come from the record's keys (`fields`,
    `parties`), this case's parties (`inherit`) and `constants`; its title from the key `title`."""
    here = cases_repo.load(ctx.conn, ctx.case_id)
    # A record's missing key stays missing; only a case opened from the payload reads the case data too.
    records = (value_of(ctx, items) or []) if items else [None]
    for n, record in enumerate(records, 1):
        if only and not all((record or {}).get(k) == v for k, v in only.items()):
            continue
        payload = dict(constants or {})
        for child, key in (fields or {}).items():
            value = _source(ctx, here, record, key)
            if value is not None:
                payload[child] = value
        roles = {role: units for role, here_role in (inherit or {}).items()
                 if (units := list(ctx.parties.get(here_role, [])))}
        for role, key in (parties or {}).items():
            units = _as_units(_source(ctx, here, record, key))
            if units:
                roles[role] = list(dict.fromkeys([*roles.get(role, []), *units]))
        name = str(_source(ctx, here, record, title) or "") if title else ""
        name = " ".join(name.split())[:300] or f"{here.title}（{n}）"
        child = ctx.cases.start(ctx.conn, task_force=here.task_force_code, workflow=workflow, actor=SYSTEM_ACTOR,
                                title=name, parties=roles, payload=payload, named_by=ctx.actor)
        ctx.cases.link(ctx.conn, here.id, child.id, link, event=ctx.event, actor=ctx.actor)


@cross_effect("link_case")
def link_case(ctx: FireContext, *, field: str, kind: str, workflow: str | None = None,
              states: list[str] | None = None) -> None:
    """Link this case to the existing case whose number a payload (else case data) field gives."""
    number = value_of(ctx, field)
    if number is None:
        return
    ref = _other(ctx, number, workflow, states, None)
    ctx.cases.link(ctx.conn, ctx.case_id, ref.id, kind, event=ctx.event, actor=ctx.actor)


@cross_effect("fire_case")
def fire_case(ctx: FireContext, *, field: str, workflow: str, event: str,
              payload: Mapping[str, str] | None = None, only_in: list[str] | None = None) -> None:
    """Fire `event`, as the clock, on the case of `workflow` whose number a payload (else case data)
    field gives, with a payload mapped from this event's (e.g. an escalation lands on an agenda).
    With `only_in`, a case in another state is left as it is."""
    number = value_of(ctx, field)
    if number is None:
        return
    if only_in is not None:
        here = cases_repo.load(ctx.conn, ctx.case_id)
        found = cases_repo.find_by_number(ctx.conn, str(number), here.task_force_code) if here else None
        if found is None or found.state not in only_in:
            return
    ref = _other(ctx, number, workflow, None, event)
    here = cases_repo.load(ctx.conn, ctx.case_id)
    body = {key: value for key, src in (payload or {}).items()
            if (value := _source(ctx, here, None, src)) is not None}
    ctx.cases.fire(ctx.conn, ref.id, event, SYSTEM_ACTOR, body)


@effect("set_due_from")
def set_due_from(ctx: FireContext, *, field: str) -> None:
    """The case is due at the end of the local day given in a payload date field."""
    value = ctx.payload.get(field)
    if value is not None:
        ctx.set_due(ctx.end_of_local_day(_as_date(value)))


@effect("clear_due")
def clear_due(ctx: FireContext) -> None:
    """The case has no due date any more."""
    ctx.set_due(None)


@effect("append_item")
def append_item(ctx: FireContext, *, key: str, fields: list[str]) -> None:
    """Append the named payload fields, as one item, to the list kept in case data `key`.

    For records that accumulate one event at a time (a meeting's decisions, an inspection's
    problems): each item stays tied to the history row that added it.
    """
    item = {name: ctx.payload[name] for name in fields if name in ctx.payload}
    if item:
        ctx.set_data(key, [*ctx.data.get(key, []), item])


@effect("compare")
def compare(ctx: FireContext, *, value: str, target: str, direction: str, flag: str) -> None:
    """Set the flag `flag` to whether the number `value` meets `target`: `direction` names a field
    holding `at_least` (the value must reach the target) or `at_most` (it must not exceed it)."""
    def look(name: str) -> Any:
        return ctx.payload[name] if name in ctx.payload else ctx.data.get(name)

    got, goal, how = look(value), look(target), look(direction)
    if got is None or goal is None:
        return
    ctx.set_data(flag, float(got) >= float(goal) if how == "at_least" else float(got) <= float(goal))


# --- figures (engine/figures.py: declared in the task force's figures.yaml) -------------------------

_OPS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
        "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def figure_now(ctx: FireContext, name: str) -> Any:
    from engine.figures import InContext

    here = cases_repo.load(ctx.conn, ctx.case_id)
    workflow = ctx.cases.machine(ctx.conn, here.definition_id).definition.name
    case = InContext(ctx.case_id, workflow, ctx.data, ctx.parties)
    spec = ctx.cases.figures.spec(ctx.conn, here.task_force_code)
    in_context = case if spec.figures.get(name) is not None and spec.figures[name].of == workflow else None
    return ctx.cases.figures.evaluate(ctx.conn, here.task_force_code, [name], in_context)[name]


@guard("figure")
def figure(ctx: FireContext, *, name: str, op: str = "==", value: Any = True, reason: str = "") -> str | None:
    """A figure (figures.yaml) of this case, or of its task force, compares with `value` by `op`
    (> >= < <= == !=), e.g. every month of the year is confirmed before the settlement is drawn up."""
    from decimal import Decimal

    from engine.figures_grammar import plain

    got = figure_now(ctx, name)
    compare = _OPS.get(op)
    if compare is None:
        return f"unknown comparison {op!r}; one of {' '.join(_OPS)}"
    want = value if isinstance(value, bool) else Decimal(str(value))
    if got is None or isinstance(got, dict) or not compare(got, want):
        return reason or f"{name} is {plain(got)!r}, not {op} {value!r}"
    return None


@effect("record_figure")
def record_figure(ctx: FireContext, *, name: str, key: str = "") -> None:
    """Record a figure (figures.yaml) of this case, as computed when the event fires, in the case data
    (under `key`, default the figure's name): the settlement keeps the shares it was drawn up with. The
    value is computed before the event's row is written and kept in it (engine/cases.py), so replaying
    the case reads the same value."""
    from engine.figures import RECORDED

    key = key or name
    ctx.set_data(key, (ctx.payload.get(RECORDED) or {}).get(key))
