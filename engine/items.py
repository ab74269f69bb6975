"""Items files: lists the office edits (a plan's task matrix, a list of problems, yearly targets)
that open one case each.

```yaml
workflow: key_task              # a workflow of the task force whose create roles include system
items:
  - key: "2"                    # unique in the file; loading again skips keys already loaded
    title: 深入推进城市饮用水水源地环保执法专项行动
    parties: {lead: [xt_hbj], cooperating: [xt_swj]}
    fields: {task: ..., due: 2017-12-31}      # the workflow's create fields
```

Each (file, key) opens exactly one case, opened by the system: running the loader twice creates
nothing new, so a file may grow as the office adds rows.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from db.repositories import time as trepo
from engine import schema
from engine.cases import SYSTEM, Cases
from engine.errors import DefinitionError
from engine.loader import parse_yaml


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def read_items(path: Path) -> tuple[str, list[dict[str, Any]]]:
    source = str(path)
    doc = parse_yaml(path.read_text(encoding="utf-8"), source)
    schema.refuse("items", doc, source)
    if not isinstance(doc, dict) or not isinstance(doc.get("workflow"), str) or not isinstance(doc.get("items"), list):
        raise DefinitionError(source, None, "an items file is a mapping with 'workflow' and a list 'items'")
    seen: set[str] = set()
    items = []
    for item in doc["items"]:
        line = getattr(item, "line", None)
        if not isinstance(item, dict) or not item.get("title") or item.get("key") is None:
            raise DefinitionError(source, line, "each item needs a key and a title")
        key = str(item["key"])
        if len(key) > 20:
            raise DefinitionError(source, line, f"item key {key!r} is longer than 20 characters")
        if key in seen:
            raise DefinitionError(source, line, f"item key {key!r} is repeated")
        seen.add(key)
        parties = _plain(item.get("parties") or {})
        if not parties or not any(parties.values()):
            raise DefinitionError(source, line, f"item {key!r} names no party unit")
        items.append({"key": key, "title": str(item["title"]), "parties": parties,
                      "fields": _plain(item.get("fields") or {}), "description": str(item.get("description", ""))})
    return doc["workflow"], items


def load_items(cases: Cases, task_force: str, path: Path) -> list[int]:
    """Open a case per item not loaded before, in one transaction; returns the new case ids."""
    workflow, items = read_items(path)
    tag = f"items:{path.stem}"
    created = []
    with cases.db.write() as conn:
        for item in items:
            lead = next(u for units in item["parties"].values() for u in units)
            if trepo.run_exists(conn, task_force, tag, item["key"], lead):
                continue
            case = cases.start(conn, task_force=task_force, workflow=workflow, actor=SYSTEM, title=item["title"],
                               description=item["description"], parties=item["parties"], payload=item["fields"])
            trepo.record_run(conn, task_force, tag, item["key"], lead, case.id)
            created.append(case.id)
    return created
