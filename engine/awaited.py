"""Which open events a person is *awaited* to fire, and which are merely open to them.

An event open from a state may be something nobody waits for: a 回头看 that may reopen a closed-out
problem, proposing a topic for a meeting, cancelling a supervision, applying for recusal. Such events
stay on the case page, but they put no case on 我的待办. A task force folder may declare them in
`worklist.yaml`:

    optional:                        # workflow → events that put no case on anyone's 我的待办
      problem_item: [relapse, refer_to_procuratorate]
      meeting: [propose_item, postpone, cancel]

The file is checked at load against every version of each workflow named (an event must exist in
one of them) and stored with the folder (setting `worklist:<task force>`), so it binds the running
cases of published versions at once — the same reason naming.yaml is a file and not a new version.
An event the file does not name is awaited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from sqlalchemy import Connection

from db.repositories import time as trepo
from engine.definition import Definition
from engine.errors import DefinitionError
from engine.loader import parse_yaml

SETTING_PREFIX = "worklist:"
FILE = "worklist.yaml"

OptionalEvents = Mapping[str, frozenset[str]]  # workflow → its optional events


def parse_optional(path: Path, definitions: Iterable[Definition]) -> dict[str, frozenset[str]]:
    """Read and check a folder's worklist.yaml against every version of its definitions."""
    if not path.is_file():
        return {}
    source = str(path)
    doc = parse_yaml(path.read_text(encoding="utf-8"), source) or {}
    if not isinstance(doc, dict) or set(doc) - {"optional"}:
        raise DefinitionError(source, None, "a worklist file holds one key, `optional:`, workflow → list of events")
    events: dict[str, set[str]] = {}
    for d in definitions:
        events.setdefault(d.name, set()).update(e for e, spec in d.events.items() if set(spec.roles) - {"system"})
    out: dict[str, frozenset[str]] = {}
    workflows = doc.get("optional") or {}
    if not isinstance(workflows, dict):
        raise DefinitionError(source, getattr(workflows, "line", None), "`optional:` maps workflows to lists of events")
    for workflow, names in workflows.items():
        line = getattr(names, "line", None)
        if workflow not in events:
            raise DefinitionError(source, line, f"unknown workflow {workflow!r} — known: {', '.join(sorted(events))}")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise DefinitionError(source, line, f"{workflow}: list the events by name")
        unknown = [n for n in names if n not in events[workflow]]
        if unknown:
            raise DefinitionError(source, line, f"{workflow}: no event {', '.join(map(repr, unknown))} that people "
                                                f"fire in any version — events: {', '.join(sorted(events[workflow]))}")
        out[workflow] = frozenset(names)
    return out


def store_optional(conn: Connection, task_force: str, optional: OptionalEvents) -> None:
    trepo.put_setting(conn, SETTING_PREFIX + task_force, {w: sorted(e) for w, e in sorted(optional.items())})


def optional_events(conn: Connection, task_force: str) -> dict[str, frozenset[str]]:
    """The stored optional events of a task force (read on each list: one small row)."""
    stored = trepo.get_setting(conn, SETTING_PREFIX + task_force) or {}
    return {w: frozenset(e) for w, e in stored.items()}


def every_optional(conn: Connection) -> dict[str, dict[str, frozenset[str]]]:
    """Task force → its optional events, for every task force (one query)."""
    return {key[len(SETTING_PREFIX):]: {w: frozenset(e) for w, e in value.items()}
            for key, value in trepo.settings_like(conn, SETTING_PREFIX).items()}


def awaited(events: Iterable[str], workflow: str, optional: OptionalEvents) -> list[str]:
    skip = optional.get(workflow, frozenset())
    return [e for e in events if e not in skip]
