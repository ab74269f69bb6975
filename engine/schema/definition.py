"""A workflow definition: `definitions/<name>.v<N>.yaml`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from engine.definition import FIELD_TYPES, ROLE_KINDS, STATE_COLOURS
from engine.loader import UNITS as TIME_UNITS
from engine.schema.base import Model, Name, PositiveInt
from engine.schema.invocations import effect_model, guard_model, one_name

FieldType = Literal[tuple(sorted(FIELD_TYPES))]
TimeUnit = Annotated[Literal[TIME_UNITS], Field(description="时间单位：小时、自然日、工作日（节假日和调休）、月")]

Guard = guard_model()
Effect = effect_model()
GuardEntry = Annotated[Guard, BeforeValidator(one_name, json_schema_input_type=Name | Guard)]
EffectEntry = Annotated[Effect, BeforeValidator(one_name, json_schema_input_type=Name | Effect)]


class Role(Model):
    """一个角色：组织角色（账号持有）或当事角色（案件上记录的单位）。"""

    kind: Literal[tuple(sorted(ROLE_KINDS))] = Field(description="org：账号持有的组织角色；party：案件上记录的单位")
    title: str = Field("", description="角色名称（中文）")


class FieldSpec(Model):
    """一个字段：事件或新建案件时填写的内容。"""

    type: FieldType = Field(description="字段类型")
    required: bool = Field(False, description="是否必填")
    title: str = Field("", description="字段名称（中文）")
    choices: list[str] | dict[Name, str] | None = Field(
        None, description="choice / choices 字段的可选值：文字的列表，或 {代码: 名称}（页面显示名称，记录代码）")
    fields: dict[Name, FieldEntry] | None = Field(None, description="items 字段每条记录的字段")
    max_length: int | None = Field(None, ge=1, description="最多字数（string、text、strings）")


def _shorthand(data: Any) -> Any:
    """`due: date` is short for `due: {type: date}`."""
    return {"type": data} if isinstance(data, str) else data


FieldEntry = Annotated[FieldSpec, BeforeValidator(_shorthand, json_schema_input_type=FieldType | FieldSpec)]
FieldSpec.model_rebuild()

Names = Annotated[list[Name] | Name, Field(description="名称，或名称的列表")]


class DeadlineOps(Model):
    """对期限的操作：启动、停止、暂停、恢复、重新计算、延长。"""

    start: Names | None = Field(None, description="启动这些期限")
    stop: Names | None = Field(None, description="停止这些期限（已办结）")
    pause: Names | None = Field(None, description="暂停这些期限（按整日停止计时）")
    resume: Names | None = Field(None, description="恢复这些期限")
    reset: Names | None = Field(None, description="重新计算这些期限")
    extend: dict[Name, Name] | None = Field(None, description="延长：期限 → 给出新日期的日期字段")


class State(Model):
    """一个状态。"""

    name: Name = Field(description="状态代码")
    title: str = Field("", description="状态名称（中文）")
    initial: bool = Field(False, description="初始状态（恰有一个）")
    final: bool = Field(False, description="终结状态（不再有事件）")
    deadlines: DeadlineOps | None = Field(None, description="进入本状态时对期限的操作")
    colour: Literal[("", *sorted(STATE_COLOURS))] = Field("", description="警示颜色：yellow 黄牌、red 红牌")


class Card(Model):
    """本事件记录的黄牌、红牌（计入单位的评分）。"""

    kind: Name = Field(description="牌的种类，如 yellow、red")
    against: Name = Field(description="被记牌的当事角色")


class Event(Model):
    """一个事件：从哪些状态到哪个状态，谁可以办理，填写什么，产生什么。"""

    name: Name = Field(description="事件代码")
    title: str = Field("", description="事件名称（中文）")
    from_: Literal["*"] | Name | list[Name] = Field(alias="from", description="来源状态：一个状态、状态列表，或 \"*\"（所有非终结状态）")
    to: Name | None = Field(None, description="目标状态；省略则停留在原状态")
    roles: list[Name] = Field(description="可以办理的角色（须在 roles 中声明）")
    guards: list[GuardEntry] | None = Field(None, description="条件：登记表中的名称，可带参数")
    fields: dict[Name, FieldEntry] | None = Field(None, description="办理时填写的字段")
    effects: list[EffectEntry] | None = Field(None, description="效果：登记表中的名称，可带参数，在同一事务中执行")
    documents: list[Name] | None = Field(None, description="本事件印发的文书种类（编号、生成、归档）")
    deadlines: DeadlineOps | None = Field(None, description="本事件对期限的操作")
    card: Card | None = Field(None, description="本事件记录的黄牌、红牌")


class Create(Model):
    """新建案件：谁可以新建，须填写什么。"""

    roles: list[Name] = Field(description="可以新建案件的组织角色（计时器新建时含 system）")
    fields: dict[Name, FieldEntry] | None = Field(None, description="新建时填写的字段")
    effects: list[EffectEntry] | None = Field(None, description="新建时执行的效果")
    deadlines: DeadlineOps | None = Field(None, description="新建时对期限的操作")


class Duration(Model):
    """一段时间。"""

    amount: PositiveInt = Field(description="数量（正整数）")
    unit: TimeUnit


class WhenRule(Duration):
    """标志成立时适用的时限（取第一条成立的）。"""

    flag: Name = Field(description="案件数据或本事件字段中的标志")


class Warn(Model):
    """到期前的提醒：按比例（share）或按时段（amount、unit）。"""

    share: float | None = Field(None, gt=0, lt=1, description="时限过去这一比例时提醒（0 到 1 之间）")
    amount: PositiveInt | None = Field(None, description="到期前多少")
    unit: TimeUnit | None = None


class Supervise(Model):
    """期限届满时开启的督办案件。"""

    workflow: Name = Field(description="督办流程")
    parties: dict[Name, Name] | None = Field(None, description="督办案件的当事角色 → 本案件的当事角色")
    cancel: Name = Field("cancel", description="本期限办结或延长时在督办案件上触发的事件")


class Source(Model):
    """期限的依据：法律法规或机制文件、年份、条款。"""

    law: str = Field(min_length=1, description="法律法规或文件名称（不加书名号）")
    year: int = Field(ge=1949, le=2100, description="文本的年份")
    article: str | int = Field("", description="条款，如 第七十五条")
    verified: bool = Field(True, description="false：条文未经核对")
    note: str = Field("", description="说明（实际所读的文本等）")


class Deadline(Model):
    """一个期限（时限）。"""

    title: str = Field("", description="期限名称（中文）")
    amount: PositiveInt | None = Field(None, description="时限数量")
    unit: TimeUnit | None = None
    when: list[WhenRule] | None = Field(None, description="按标志适用的其他时限（取第一条成立的）")
    from_field: Name | None = Field(None, description="直接给出到期日的日期字段")
    start_field: Name | None = Field(None, description="计时起点所在的日期或时间字段")
    owner: Name | None = Field(None, description="逾期时负责的当事角色")
    warn: Warn | None = Field(None, description="到期前的提醒")
    on_expiry: Name | None = Field(None, description="届满时计时器触发的事件（其角色含 system）")
    supervise: Supervise | None = Field(None, description="届满时开启的督办")
    sets_due: bool = Field(True, description="是否设定案件的到期日")
    start_after: Name | None = Field(None, description="不早于另一期限结束时开始")
    source: Source | None = Field(None, description="依据（新版本的每个期限都须注明）")


class Definition(Model):
    """一个流程定义（一个版本；发布后不再改动）。"""

    name: Name = Field(description="流程代码")
    version: PositiveInt = Field(description="版本号")
    title: str = Field("", description="流程名称（中文）")
    description: str = Field("", description="说明")
    number_prefix: str = Field("", description="案件编号前缀，如 工单")
    due_soon_days: int = Field(3, ge=0, le=365, description="剩余几天时显示黄色（默认 3）")
    roles: dict[Name, Role] = Field(description="本流程的角色")
    deadlines: dict[Name, Deadline] | None = Field(None, description="期限")
    states: list[State] = Field(min_length=1, description="状态")
    create: Create = Field(description="新建案件")
    events: list[Event] = Field(description="事件")
    links: dict[Name, str] | None = Field(None, description="本流程的案件建立的关联种类：{种类: 名称}（页面显示名称）")
