"""Who is told of what: `notifications.yaml`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from engine.schema.base import Model, Name


class Recipient(Model):
    """一个接收者（四者选一）。"""

    party: Name | None = Field(None, description="案件中这一当事角色的单位")
    office: Literal[True] | None = Field(None, description="专班办公室（写 true）")
    role: Name | None = Field(None, description="持有这一组织角色的每个账号")
    deadline_owner: Literal[True] | None = Field(None, description="期限提醒中负有该期限的单位（写 true）")

    @model_validator(mode="after")
    def _one(self) -> Recipient:
        if sum(v is not None for v in (self.party, self.office, self.role, self.deadline_owner)) != 1:
            raise ValueError("each recipient is one of party, office, role, deadline_owner")
        return self


class Rule(Model):
    """一条通知规则。"""

    code: Name = Field(description="代码，在本文件中唯一")
    workflow: str = Field(description="流程代码，或 \"*\"（本专班的每个流程）")
    when: Name = Field(description="原因：事件、create，或计时器的记录 deadline_warning、deadline_expired、supervision_opened")
    to: list[Recipient] = Field(min_length=1, description="接收者")
    title: str = Field(min_length=1, description="标题，可用 {number} {title} {workflow} {event} {state} {deadline} {due} {actor}")
    body: str = Field("", description="正文，占位符同标题")


class Notifications(Model):
    """通知规则。"""

    notifications: list[Rule] = Field(description="通知规则的列表")
