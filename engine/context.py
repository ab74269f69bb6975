"""What a guard or effect sees of an event in flight, and the changes it may make."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from engine import localtime
from engine.actors import Actor

_UNSET: Any = object()


@dataclass
class FireContext:
    conn: Connection
    case_id: int
    state: str
    dest: str
    event: str
    actor: Actor
    payload: dict[str, Any]
    now: datetime
    data: dict[str, Any]
    parties: dict[str, list[str]]
    due_at: datetime | None
    changed_data: dict[str, Any] = field(default_factory=dict)
    changed_parties: dict[str, list[str]] = field(default_factory=dict)
    new_due: Any = _UNSET
    # The case service, for effects that reach other cases (spawn, link); set only when they run.
    cases: Any = None
    # The case's definition, so that a refusal names a field by its title, not its code.
    definition: Any = None

    def set_data(self, key: str, value: Any) -> None:
        self.changed_data[key] = value
        self.data = {**self.data, key: value}

    def set_party(self, role: str, units: list[str]) -> None:
        self.changed_parties[role] = list(units)
        self.parties = {**self.parties, role: list(units)}

    def set_due(self, when: datetime | None) -> None:
        self.new_due = when
        self.due_at = when

    @property
    def due_changed(self) -> bool:
        return self.new_due is not _UNSET

    def title(self, name: str) -> str:
        """What a person reads for a field (of the event, the case or any event of the definition)."""
        d = self.definition
        if d is None:
            return name
        ev = d.events.get(self.event)
        for fields in ((ev.fields if ev else ()), d.create.fields, *(e.fields for e in d.events.values())):
            for f in fields:
                if f.name == name and f.title:
                    return f.title
        return name

    # Guards and effects reach the local-time rules through the context they are given.
    local_date = staticmethod(localtime.local_date)
    end_of_local_day = staticmethod(localtime.end_of_local_day)
    zh_date = staticmethod(localtime.zh_date)
    zh_datetime = staticmethod(localtime.zh_datetime)
