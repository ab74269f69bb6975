"""Figures across cases: `figures.yaml` (engine/figures.py reads it and resolves every name)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from engine.schema.base import Model, Name


class Period(Model):
    """案件的某个日期字段（或开办日 @created）落在哪个期间。"""

    field: str = Field(default="@created", description="日期或年月字段；@created 为开办日")
    in_: str | date = Field(alias="in", description="期间：表达式（year、quarter…）或写明的期间 2026、2026-Q2、2026-03")


class Party(Model):
    """按当事单位选取。"""

    role: Name = Field(description="当事角色")
    unit: str | None = Field(default=None, description="指定单位代码")
    same_as: Name | None = Field(default=None, description="与上下文案件中该角色的单位相同")


class Link(Model):
    """按关联选取。"""

    kind: Name = Field(description="关联种类")
    direction: str | None = Field(default=None, description="from（由上下文案件发出）或 to")


class Selection(Model):
    """一组案件：按流程、状态、期间、当事单位、关联选取。"""

    workflow: Name = Field(description="流程")
    title: str | None = Field(default=None, description="名称")
    state: Name | None = Field(default=None, description="状态")
    states: list[Name] | None = Field(default=None, description="状态（多个）")
    open: bool | None = Field(default=None, description="只选在办")
    closed: bool | None = Field(default=None, description="只选已办结")
    period: Period | None = Field(default=None, description="期间")
    party: Party | None = Field(default=None, description="当事单位")
    link: Link | None = Field(default=None, description="关联")


class Figure(Model):
    """一个数字：表达式（数字、+ − × ÷、比较、count/sum/min/max/mean/ratio/shares/round 等）。"""

    title: str = Field(description="名称（页面和文书上显示）")
    of: Name | None = Field(default=None, description="按某流程的每件案件计算；不填为全专班的数字")
    value: str | int | float = Field(description="表达式")
    unit: str | None = Field(default=None, description="计量单位：件、分、元、%")


class Rule(Model):
    """考核细则的一项：每个单位计多少件，每件扣（加）多少分，最多扣（加）多少分。"""

    title: str = Field(description="名称（考核页、导出表上显示）")
    counts: str = Field(description="计数：late（逾期办结或未办结）、met（按期办结）、overdue（当前逾期）、"
                                    "card:种类（如 card:yellow）、selection:选取名（须写 by）")
    by: Name | None = Field(default=None, description="selection 计数时：单位在所选案件中担任的当事角色")
    workflows: list[Name] | None = Field(default=None, description="只计这些流程（late、met、overdue）")
    except_: list[Name] | None = Field(default=None, alias="except", description="不计这些流程（late、met、overdue）")
    deduct: str | int | float | None = Field(default=None, description="扣分：每件分值，或以 n（件数）写的表达式")
    bonus: str | int | float | None = Field(default=None, description="加分：每件分值，或以 n（件数）写的表达式")
    cap: int | float | None = Field(default=None, description="本项最多扣（加）的分数")


class AssessmentYear(Model):
    """一个年度的考核细则。"""

    title: str | None = Field(default=None, description="名称，如 2026年度考核细则")
    base: int | float = Field(default=100, description="基础分")
    rules: dict[Name, Rule] = Field(default_factory=dict, description="扣分项和加分项")
    score: str | None = Field(default=None, description="得分表达式，可用 base、deductions、bonuses 和各项代码；"
                                                        "默认 base − deductions + bonuses")


class Figures(Model):
    """专班声明的跨案件数字与唯一性。"""

    selections: dict[Name, Selection] = Field(default_factory=dict, description="案件选取")
    figures: dict[Name, Figure] = Field(default_factory=dict, description="数字")
    unique: dict[Name, list[str]] = Field(
        default_factory=dict, description="流程 → 唯一键（workflow、party:角色、field:字段），重复开办被拒绝")
    assessment: dict[int, AssessmentYear] = Field(default_factory=dict, description="年度 → 考核细则（各单位得分）")
