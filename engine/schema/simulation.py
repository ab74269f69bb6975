"""How `gongzhi simulate` drives a task force for a year: `simulation.yaml` (read by simulation/driver.py).

Values (payloads, titles, conditions) are literals or one-key `$generator` mappings from the driver's
allow-list (simulation/values.py); their names are checked when the driver reads the file.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from engine.schema.base import Model, Name


class Step(Model):
    """某一流程中，某人可能办理的一个事件。"""

    event: Name = Field(description="事件（须在定义中，且引擎判定当前可办）")
    by: str = Field(description="办理者：party:<当事角色>，或 actors 中的名称")
    in_: list[Name] | None = Field(None, alias="in", description="只在这些状态下（同一事件在不同状态办理时间不同）")
    when: list[Any] | None = Field(None, description="[entered, 最少天数, 最多天数]、[due, 最少, 最多] 或 [field, 字段]")
    late: float = Field(0.0, ge=0, le=1, description="逾期办理的概率（到期后3至45天）")
    never: float = Field(0.0, ge=0, le=1, description="始终不办的概率")
    weight: float = Field(1.0, gt=0, description="同时可办时的权重")
    priority: int = Field(0, description="同时可办时只取优先级最高者")
    if_: Any = Field(None, alias="if", description="条件")
    payload: Any = Field(None, description="事件内容（生成器）")
    then: list[dict[str, Any]] | None = Field(None, description="办理后另开的案件")
    before_open: bool = Field(False, description="引擎的时间条件尚未满足时也按时安排（如会议当天登记召开）")


class Actor(Model):
    """模拟中的一个办理者。"""

    unit: str | None = Field(None, description="所在单位")
    party: Name | None = Field(None, description="或：案件上该当事角色的单位")
    roles: list[Name] = Field(description="组织角色")
    name: str = Field("", description="显示名称")


class Simulation(Model):
    """模拟运行一年：谁在何时办理哪些事件，逾期多少，由数据给出。"""

    stubborn: dict[str, Any] | None = Field(None, description="由随机种子选出的长期逾期单位：set（单位集合）、never（加到逾期事件上的不办概率）")
    actors: dict[Name, Actor] = Field(default_factory=dict, description="具名办理者")
    member_roles: dict[str, list[Name]] = Field(default_factory=dict, description="单位类型 → 联络员的组织角色")
    unit_sets: dict[Name, Any] = Field(default_factory=dict, description="单位集合：单位列表，或 {kind, except}")
    pools: dict[Name, Any] = Field(default_factory=dict, description="随机取用的文字与表")
    queries: dict[Name, dict[str, Any]] = Field(default_factory=dict, description="查找其他案件：workflow、states 等")
    initiatives: list[dict[str, Any]] = Field(default_factory=list, description="不由定期义务产生的立案（某日、某些月份、按概率）")
    cards: list[dict[str, str]] = Field(default_factory=list, description="摘要中各单位的督办卡列：kind（卡的类型）、title")
    milestones: list[dict[str, str]] = Field(default_factory=list, description="摘要中统计的事件：workflow、event、label")
    workflows: dict[Name, list[Step]] = Field(description="流程 → 可办理的事件")
