"""What 我的待办 waits for: `worklist.yaml`."""

from __future__ import annotations

from pydantic import Field

from engine.schema.base import Model, Name


class Worklist(Model):
    """不等待任何人办理的事件：留在案件页上，但不使任何案件进入“我的待办”。"""

    optional: dict[Name, list[Name]] = Field(description="流程 → 可办可不办的事件（其他事件都等待可办理者办理）")
