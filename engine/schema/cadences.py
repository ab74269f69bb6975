"""Recurring duties: `cadences.yaml`."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from engine.schema.base import Model, Name, PositiveInt
from engine.schema.definition import TimeUnit
from engine.schema.organisation import UNIT_KINDS

EVERY = ("month", "quarter", "half_year", "year")


class Rrule(Model):
    """按 iCalendar RRULE 重复。"""

    rrule: str = Field(min_length=1, description="如 FREQ=WEEKLY;BYDAY=MO")


class OwedFilter(Model):
    """按条件选出负有义务的单位。"""

    member: bool = Field(True, description="只选成员单位")
    kinds: list[Literal[UNIT_KINDS]] | None = Field(None, description="只选这些类型的单位")
    exclude: list[str] | None = Field(None, description="除去这些单位")


class AfterPeriodEnd(Model):
    """周期结束后多久到期。"""

    amount: PositiveInt = Field(description="数量")
    unit: TimeUnit


class Due(Model):
    """到期日：周期末、每月某日，或周期结束后若干时间（三者选一）。"""

    at_period_end: bool | None = Field(None, description="周期最后一天")
    day_of_month: int | None = Field(None, ge=1, le=31, description="周期最后一个月的这一天")
    after_period_end: AfterPeriodEnd | None = Field(None, description="周期结束后若干时间")


class Cadence(Model):
    """一项定期义务：每个周期为每个负有义务的单位开一件案件。"""

    code: Name = Field(description="代码，在本文件中唯一")
    title: str = Field(min_length=1, description="案件标题，可用 {period}（周期）和 {unit}（单位简称）")
    workflow: Name = Field(description="开启的流程（其新建角色含 system，新建字段含 period 和 due）")
    every: Literal[EVERY] | Rrule = Field(description="周期：month、quarter、half_year、year，或 {rrule: ...}")
    from_: dt.date | None = Field(None, alias="from", description="活动开始日（只含此后开始的周期）")
    until: dt.date | None = Field(None, description="活动结束日（只含此前开始的周期）")
    owed_by: list[str] | OwedFilter = Field(description="负有义务的单位：单位代码列表，或条件")
    role: Name = Field(description="负有义务的单位在案件中的当事角色")
    parties: dict[Name, list[str]] | None = Field(None, description="固定的当事单位：角色 → 单位代码")
    due: Due | None = Field(None, description="到期日（默认周期末）")
    payload: dict[Name, Any] | None = Field(None, description="新建字段的固定取值")


class Cadences(Model):
    """定期义务。"""

    cadences: list[Cadence] = Field(description="定期义务的列表")
