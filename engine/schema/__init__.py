"""One schema per kind of mechanism file, as typed models (unknown keys refused).

From them come the loaders' structural checks, the JSON Schemas `gongzhi schema` writes (an editor
completes keys and shows the Chinese descriptions) and the reference tables of workflows/README.md.
Used at load time only: nothing here runs while an event fires.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from engine.schema.base import Problem, near, problems_of


@dataclass(frozen=True)
class FileKind:
    name: str
    pattern: str  # where the file sits in a task force folder
    title: str
    model: Callable[[], type[BaseModel]]


def _definition():
    from engine.schema.definition import Definition

    return Definition


def _organisation():
    from engine.schema.organisation import Organisation

    return Organisation


def _cadences():
    from engine.schema.cadences import Cadences

    return Cadences


def _notifications():
    from engine.schema.notifications import Notifications

    return Notifications


def _naming():
    from engine.schema.naming import Naming

    return Naming


def _items():
    from engine.schema.items import Items

    return Items


def _worklist():
    from engine.schema.worklist import Worklist

    return Worklist


def _figures():
    from engine.schema.figures import Figures

    return Figures


def _simulation():
    from engine.schema.simulation import Simulation

    return Simulation


def _demo():
    from engine.schema.demo_accounts import DemoAccounts

    return DemoAccounts


KINDS: dict[str, FileKind] = {k.name: k for k in (
    FileKind("organisation", "organisation.yaml", "组织：专班、角色、区域、单位、组成", _organisation),
    FileKind("definition", "definitions/<name>.v<N>.yaml", "流程定义", _definition),
    FileKind("cadences", "cadences.yaml", "定期义务", _cadences),
    FileKind("notifications", "notifications.yaml", "通知规则", _notifications),
    FileKind("naming", "naming.yaml", "当事单位的指定规则", _naming),
    FileKind("worklist", "worklist.yaml", "我的待办：可办可不办的事件", _worklist),
    FileKind("figures", "figures.yaml", "跨案件的数字与唯一性", _figures),
    FileKind("items", "<list>.yaml", "清单（每行开一件案件）", _items),
    FileKind("demo_accounts", "demo_accounts.yaml", "演示账号", _demo),
    FileKind("simulation", "simulation.yaml", "模拟运行一年（gongzhi simulate）", _simulation),
)}
_FIXED = {"organisation.yaml": "organisation", "cadences.yaml": "cadences", "notifications.yaml": "notifications",
          "naming.yaml": "naming", "demo_accounts.yaml": "demo_accounts", "worklist.yaml": "worklist",
          "figures.yaml": "figures", "simulation.yaml": "simulation"}


def kind_of(path: Path, folder: Path) -> str | None:
    """Which kind of file a path inside a task force folder is (None: not a mechanism file)."""
    rel = path.relative_to(folder)
    if rel.parts[0] == "definitions" and len(rel.parts) == 2 and path.suffix == ".yaml":
        return "definition"
    if len(rel.parts) == 1 and path.suffix == ".yaml":
        return _FIXED.get(path.name, "items")
    return None


@functools.cache
def model(kind: str) -> type[BaseModel]:
    return KINDS[kind].model()


def validate(kind: str, doc: Any, source: str) -> list[Problem]:
    """Every structural problem of a parsed file, each with its line."""
    try:
        model(kind).model_validate(doc)
    except ValidationError as exc:
        return problems_of(exc, model(kind), doc, source)
    return []


def refuse(kind: str, doc: Any, source: str) -> None:
    """Raise the first structural problem of a parsed file as a DefinitionError (all of them in
    `.problems`); the loaders call this before their own checks."""
    found = validate(kind, doc, source)
    if found:
        from engine.errors import DefinitionError

        # An unknown key, or a near miss, often explains a missing one (`wehn:` for `when:`): said first.
        first = next((p for p in found if p.what.startswith("unknown key") or "did you mean" in p.what), found[0])
        err = DefinitionError(source, first.line or None, first.what + (f" — {first.allowed}" if first.allowed else ""))
        err.problems = found
        raise err


def json_schema(kind: str) -> dict[str, Any]:
    schema = model(kind).model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"gongzhi {kind}: {KINDS[kind].title}"
    return schema


__all__ = ["KINDS", "Problem", "json_schema", "kind_of", "model", "near", "refuse", "validate"]
