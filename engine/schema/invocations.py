"""Guards and effects as models built from the registry's own typed signatures.

A guard or effect in a definition is a name, or a one-key mapping of the name to its arguments; the
arguments are checked against the function's keyword parameters and their types, so a definition
names only what the allow-list holds and passes it only what it takes.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import ConfigDict, Field, create_model, model_validator

from engine import registry
from engine.schema.base import Model

# What a generic argument names (the registry speaks only of fields, roles, dates — never of a mechanism).
ARGUMENTS = {
    "field": "字段名：本事件的字段，否则为案件数据中已记录的键",
    "role": "本流程声明的角色",
    "flag": "案件数据中的标志键",
    "key": "案件数据中的键",
    "value": "数值所在的字段或键",
    "target": "目标值所在的字段或键",
    "direction": "比较方向所在的字段（其值为 at_least 或 at_most）",
    "values": "允许的取值",
    "reason": "不满足时向用户显示的原因（中文）",
    "deadline": "本流程声明的期限",
    "count": "至少的数目",
    "kinds": "单位类型（organisation.yaml 的 kind）",
    "units": "单位代码（organisation.yaml 的 units）",
    "workflow": "本专班的另一流程",
    "states": "那一流程的状态",
    "event": "那一流程中计时器可触发的事件",
    "link": "案件之间关联的种类",
    "kind": "案件之间关联的种类",
    "items": "记录列表所在的字段或键",
    "only": "只处理这些键取这些值的记录",
    "title": "新案件标题所在的键",
    "fields": "新案件的创建字段 → 本记录的键",
    "parties": "新案件的当事角色 → 本记录中单位所在的键",
    "inherit": "新案件的当事角色 → 本案件的当事角色",
    "constants": "新案件的创建字段 → 固定取值",
    "payload": "那一事件的字段 → 本事件的字段",
    "only_in": "只在那一案件处于这些状态时",
    "than": "与之比较的时刻：due（到期日）或 now（今天）",
    "days": "相差的日数",
    "by": "增加的数",
    "where": "条件：只在这些键（本事件字段，否则案件数据）取这些值时适用；列表表示“之一”",
}

_NAMES = {"guard": "条件", "effect": "效果"}


def _hints(named: registry.Named) -> dict[str, Any]:
    fn = inspect.unwrap(named.fn)
    module = inspect.getmodule(fn)
    return typing.get_type_hints(fn, globalns=vars(module) if module else None)


def _arguments_model(kind: str, named: registry.Named) -> type[Model]:
    hints = _hints(named)
    fn = inspect.unwrap(named.fn)
    fields: dict[str, Any] = {}
    for p in inspect.signature(fn).parameters.values():
        if p.kind is not p.KEYWORD_ONLY:
            continue
        tp = hints.get(p.name, Any)
        default = ... if p.default is p.empty else p.default
        fields[p.name] = (tp, Field(default, description=ARGUMENTS.get(p.name, p.name)))
    fields["where"] = (dict[str, Any] | None, Field(None, description=ARGUMENTS["where"], min_length=1))
    model = create_model(f"{kind}_{named.name}", __base__=Model, **fields)
    model.__doc__ = named.doc or named.name
    model.invocation = (kind, named.name)
    return model


def one_name(data: Any) -> Any:
    """A bare name means the guard or effect without arguments."""
    if isinstance(data, str):
        return {data: {}}
    return data


class _Container(Model):
    # One key: the name of the guard or effect.
    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})


def _container(kind: str, table: Mapping[str, registry.Named]) -> type[Model]:
    fields = {name: (_arguments_model(kind, named) | None,
                     Field(None, description=" ".join(named.doc.split()) or name))
              for name, named in sorted(table.items())}

    @model_validator(mode="before")
    @classmethod
    def bare(cls, data: Any) -> Any:
        data = one_name(data)
        if isinstance(data, Mapping):
            # `{name: }` (no arguments) reads as None: the call without arguments.
            data = {k: ({} if v is None else v) for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def exactly_one(self) -> Any:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"each {kind} is a name or a one-key mapping of name to arguments")
        return self

    model = create_model(kind.capitalize(), __base__=_Container, __doc__=f"{_NAMES[kind]}：登记表中的名称（可带参数）",
                         __validators__={"bare": bare, "exactly_one": exactly_one}, **fields)
    model.container = kind
    return model


@functools.cache
def guard_model() -> type[Model]:
    return _container("guard", registry.guards())


@functools.cache
def effect_model() -> type[Model]:
    return _container("effect", registry.effects())
