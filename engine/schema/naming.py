"""Who may name which units into which party role: `naming.yaml`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from engine.schema.base import Model, Name
from engine.schema.organisation import UNIT_KINDS


class RoleRule(Model):
    """一个当事角色可由哪些单位担任、经由哪些事件指定；{} 表示本专班的任何单位。"""

    kinds: list[Literal[UNIT_KINDS]] | None = Field(None, min_length=1, description="单位类型")
    member: bool = Field(False, description="只限成员单位")
    within: list[str] | None = Field(None, description="在这些区域及其下级之内；@actor：办理单位所在区域")
    own_unit: bool = Field(False, description="只能是办理单位本身")
    through: list[Name] | None = Field(None, description="只能经由这些事件指定；create 表示新建案件")


def _empty(data: Any) -> Any:
    return {} if data is None else data


RoleRuleEntry = Annotated[RoleRule, BeforeValidator(_empty, json_schema_input_type=RoleRule | None)]


class Naming(Model):
    """流程 → 当事角色 → 规则。"""

    naming: dict[Name, dict[Name, RoleRuleEntry]] = Field(description="流程 → 当事角色 → 规则")
