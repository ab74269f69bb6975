"""Definition → compiled machine: a `transitions.Machine` built once, plus flat lookup tables.

The machine is shared by every case of a (name, version); a case's state is bound per event,
never by attaching the case as a model (add_model resets to `initial` and costs ~150 µs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model
from transitions import Machine

from engine import localtime, registry
from engine.definition import LIST_LIMIT, DeadlineOps, Definition, EventSpec, FieldSpec
from engine.errors import BadPayload

# Dates feed deadline arithmetic (the end of a local day): year 9999 would overflow it.
_Date = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2999, 12, 31))]


def _moment(value: dt.datetime) -> dt.datetime:
    # Every way into case data passes here (JSON API, page forms, CLI, items files, simulation): a time
    # written without a zone is Beijing time, so what is recorded never depends on the server's TZ.
    moment = localtime.aware(value)
    if not 1900 <= moment.year <= 2999:
        raise ValueError("must lie in 1900-2999")
    return moment


_Moment = Annotated[dt.datetime, AfterValidator(_moment)]



def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text and JSON: refused here, it is a 422 on both databases, not a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _text(limit: int) -> Any:
    return Annotated[str, Field(max_length=limit), AfterValidator(_no_nul)]


_CODE = _text(100)
_PY_TYPES: dict[str, Any] = {
    # Finite only: NaN and 1e400 (infinity) are no amount, and JSON cannot carry them back out.
    "number": Annotated[float, Field(allow_inf_nan=False)],
    # Within what JSON readers and both databases' JSON keep exactly.
    "integer": Annotated[int, Field(ge=-(2**53), le=2**53)],
    "boolean": bool,
    "date": _Date,
    "datetime": _Moment,
    "unit": _CODE,
    "units": Annotated[list[_CODE], Field(max_length=LIST_LIMIT)],  # type: ignore[valid-type]
    # A duty's period code (engine/periods.py): 2026, 2026-H2, 2026-Q3, 2026-M03 or a first day.
    "period": Annotated[str, Field(pattern=r"^\d{4}(-(H[12]|Q[1-4]|M(0[1-9]|1[0-2])|\d{2}-\d{2}))?$")],
}


def _py_type(f: FieldSpec) -> Any:
    limit = f.text_limit
    if f.type in ("string", "text"):
        return _text(limit or 0)
    if f.type == "strings":
        return Annotated[list[_text(limit or 0)], Field(max_length=LIST_LIMIT)]  # type: ignore[misc]
    return _PY_TYPES[f.type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)



def _payload_model(name: str, fields: tuple[FieldSpec, ...], *, in_item: bool = False) -> type[BaseModel]:
    spec: dict[str, Any] = {}
    for f in fields:
        if f.type == "choice":
            py: Any = Literal[f.choices]  # type: ignore[valid-type]
        elif f.type == "choices":
            py = Annotated[list[Literal[f.choices]], Field(max_length=LIST_LIMIT)]  # type: ignore[valid-type]
        elif f.type == "items":
            py = Annotated[list[_payload_model(f"{name}_{f.name}", f.items, in_item=True)],  # type: ignore[misc]
                           Field(max_length=LIST_LIMIT)]
        elif in_item and f.required and f.type in ("string", "text"):
            # Top-level text is checked after parsing (naming the field); inside a record, here.
            py = Annotated[_py_type(f), Field(min_length=1)]
        else:
            py = _py_type(f)
        spec[f.name] = (py, ...) if f.required else (py | None, None)
    return create_model(f"Payload_{name}", __base__=_Strict, **spec)


@dataclass(frozen=True)
class CompiledEvent:
    spec: EventSpec
    roles: frozenset[str]
    guards: tuple[tuple[registry.Named, dict[str, Any]], ...]
    effects: tuple[tuple[registry.Named, dict[str, Any]], ...]
    payload_model: type[BaseModel]
    required_text: tuple[str, ...]
    cross: tuple[tuple[registry.Named, dict[str, Any]], ...] = ()  # effects on other cases, after the write
    # Guards that read none of the event's own fields: they can be judged before anything is typed, so a
    # form is offered only when they hold.
    pre_guards: tuple[tuple[registry.Named, dict[str, Any]], ...] = ()


def _reads_fields(kwargs: dict[str, Any], fields: frozenset[str]) -> bool:
    """Whether a guard's arguments name one of the event's fields (a value or a `where` key)."""
    named = {v for v in kwargs.values() if isinstance(v, str)} | set(kwargs.get("where") or ())
    return bool(named & fields)


class CompiledMachine:
    """Everything `fire` needs about one definition, computed once."""

    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        d = definition
        self.machine = Machine(
            model=None,
            states=list(d.states),
            initial=d.initial,
            transitions=[
                {"trigger": e.name, "source": s, "dest": e.dest or s}
                for e in d.events.values()
                for s in e.sources
            ],
            auto_transitions=False,
            ignore_invalid_triggers=False,
        )
        self.final = frozenset(s.name for s in d.states.values() if s.final)
        self.dest: dict[tuple[str, str], str] = {}
        self.triggers: dict[str, tuple[str, ...]] = {}
        for state in d.states:
            names = tuple(t for t in self.machine.get_triggers(state) if t in d.events)
            self.triggers[state] = names
            for trig in names:
                (transition,) = self.machine.get_transitions(trigger=trig, source=state)
                self.dest[(state, trig)] = transition.dest
        # Deadline operations per (source state, event): leaving stops what the state started,
        # then the event's own operations, then what the destination starts on entry.
        self.deadline_ops: dict[tuple[str, str], list] = {}
        for (state, trig), there in self.dest.items():
            ops = []
            if there != state and d.states[state].deadlines.start:
                ops.append(DeadlineOps(stop=d.states[state].deadlines.start))
            if d.events[trig].deadlines:
                ops.append(d.events[trig].deadlines)
            if there != state and d.states[there].deadlines:
                ops.append(d.states[there].deadlines)
            if ops:
                self.deadline_ops[(state, trig)] = ops
        gtable, etable = registry.guards(), registry.effects()
        self.events: dict[str, CompiledEvent] = {
            e.name: CompiledEvent(
                spec=e,
                roles=frozenset(e.roles),
                guards=tuple((gtable[g.name], g.kwargs()) for g in e.guards),
                effects=tuple((etable[f.name], f.kwargs()) for f in e.effects if not etable[f.name].cross),
                payload_model=_payload_model(e.name, e.fields),
                required_text=tuple(f.name for f in e.fields if f.required and f.type in ("string", "text")),
                cross=tuple((etable[f.name], f.kwargs()) for f in e.effects if etable[f.name].cross),
                pre_guards=tuple((gtable[g.name], g.kwargs()) for g in e.guards
                                 if not _reads_fields(g.kwargs(), frozenset(f.name for f in e.fields))),
            )
            for e in d.events.values()
        }
        self.create_model = _payload_model("create", d.create.fields)
        self.create_required_text = tuple(
            f.name for f in d.create.fields if f.required and f.type in ("string", "text")
        )
        self.create_effects = tuple((etable[f.name], f.kwargs()) for f in d.create.effects if not etable[f.name].cross)
        self.create_cross = tuple((etable[f.name], f.kwargs()) for f in d.create.effects if etable[f.name].cross)
        self.create_roles = frozenset(d.create.roles)

    def allowed(self, state: str, roles: frozenset[str]) -> list[str]:
        """Events this holder of `roles` may fire from `state`, in definition order."""
        return [t for t in self.triggers.get(state, ()) if self.events[t].roles & roles]

    def validate(self, event: CompiledEvent | None, payload: Mapping[str, Any] | None) -> dict[str, Any]:
        model = event.payload_model if event else self.create_model
        required_text = event.required_text if event else self.create_required_text
        try:
            parsed = model.model_validate(payload or {})
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "payload"
            reason = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            raise BadPayload(field, reason) from None
        for name in required_text:
            if not getattr(parsed, name):
                raise BadPayload(name, "must not be empty")
        return parsed.model_dump(mode="json", exclude_none=True)
