"""Demo accounts `gongzhi init --demo` creates: `demo_accounts.yaml`."""

from __future__ import annotations

from pydantic import Field

from engine.schema.base import Model, Name


class Account(Model):
    """一个演示账号。"""

    username: str = Field(min_length=1, description="登录名")
    name: str = Field("", description="显示名")
    unit: str = Field(description="单位代码")
    roles: list[Name] = Field(min_length=1, description="组织角色")


class DemoAccounts(Model):
    """演示账号。"""

    accounts: list[Account] = Field(description="演示账号的列表")
