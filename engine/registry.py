"""The allow-list: definitions name guards and effects; only what is registered here can run.

Guards and effects are generic (they speak of fields, roles, dates), never of a mechanism.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from db.repositories import time as time_repo
from engine.context import FireContext


@dataclass(frozen=True)
class Named:
    name: str
    fn: Callable[..., Any]
    required: frozenset[str]
    optional: frozenset[str]
    doc: str

    def check_args(self, args: Mapping[str, Any]) -> str | None:
        missing = sorted(self.required - set(args))
        if missing:
            return f"missing argument(s) {', '.join(missing)}"
        extra = sorted(set(args) - self.required - self.optional)
        if extra:
            return f"unknown argument(s) {', '.join(extra)}; takes {', '.join(sorted(self.required | self.optional))}"
        return None


_GUARDS: dict[str, Named] = {}
_EFFECTS: dict[str, Named] = {}


def _register(table: dict[str, Named], name: str):
    def deco(fn):
        params = [p for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY]
        table[name] = Named(
            name,
            fn,
            frozenset(p.name for p in params if p.default is p.empty),
            frozenset(p.name for p in params if p.default is not p.empty),
            (fn.__doc__ or "").strip(),
        )
        return fn

    return deco


def guard(name: str):
    """Register a guard: fn(ctx, **args) returns None when it holds, or the reason it does not."""
    return _register(_GUARDS, name)


def effect(name: str):
    """Register an effect: fn(ctx, **args) changes the case through ctx, inside the event's transaction."""
    return _register(_EFFECTS, name)


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
        return f"the due date {ctx.due_at.isoformat()} has passed"
    return None


@guard("field_after")
def field_after(ctx: FireContext, *, field: str, than: str = "due") -> str | None:
    """A payload date lies after the case's due date (than: due) or after today (than: now)."""
    value = ctx.payload.get(field)
    if value is None:
        return None
    limit = ctx.due_at if than == "due" else ctx.now
    if limit is None:
        return None
    if _as_date(value) <= ctx.local_date(limit):
        return f"{field} {value} must be later than {ctx.local_date(limit).isoformat()}"
    return None


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
