"""A workflow definition as frozen, typed data: what the YAML says, checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIELD_TYPES = frozenset(
    {"string", "text", "integer", "number", "boolean", "date", "datetime", "unit", "units", "choice", "strings"}
)
ROLE_KINDS = frozenset({"org", "party"})


@dataclass(frozen=True, slots=True)
class Invocation:
    """A named guard or effect with its (plain data) arguments."""

    name: str
    args: tuple[tuple[str, Any], ...] = ()

    def kwargs(self) -> dict[str, Any]:
        return dict(self.args)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str
    required: bool = False
    title: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoleSpec:
    name: str
    kind: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class StateSpec:
    name: str
    title: str = ""
    initial: bool = False
    final: bool = False


@dataclass(frozen=True, slots=True)
class EventSpec:
    name: str
    sources: tuple[str, ...]
    dest: str | None  # None: stay in the source state
    roles: tuple[str, ...]
    title: str = ""
    guards: tuple[Invocation, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    effects: tuple[Invocation, ...] = ()
    # Document kinds this event issues; rendered after commit through the outbox.
    documents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CreateSpec:
    """Who may open a case of this workflow and what opening it must carry."""

    roles: tuple[str, ...]
    fields: tuple[FieldSpec, ...] = ()
    effects: tuple[Invocation, ...] = ()


@dataclass(frozen=True)
class Definition:
    name: str
    version: int
    title: str
    roles: dict[str, RoleSpec]
    states: dict[str, StateSpec]
    events: dict[str, EventSpec]
    create: CreateSpec
    number_prefix: str
    content_hash: str
    source: str = "<memory>"
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def initial(self) -> str:
        return next(s.name for s in self.states.values() if s.initial)

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.version)
