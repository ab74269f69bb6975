"""Items files the office edits (a task matrix, a problem list, yearly targets): `<list>.yaml`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from engine.schema.base import Model, Name


class Item(Model):
    """一行：开一件案件。"""

    key: str | int = Field(description="键，在本文件中唯一，最多 20 个字符；已载入的键再次载入时跳过")
    title: str = Field(min_length=1, description="案件标题")
    description: str = Field("", description="说明")
    parties: dict[Name, list[str]] = Field(min_length=1, description="当事角色 → 单位代码")
    fields: dict[Name, Any] | None = Field(None, description="流程的新建字段")


class Items(Model):
    """一份清单：每行开一件案件（由系统新建）。"""

    workflow: Name = Field(description="流程代码（其新建角色含 system）")
    items: list[Item] = Field(description="清单的各行")
