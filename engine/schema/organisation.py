"""A task force's organisation: `organisation.yaml`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engine.schema.base import Model, Name

LEVELS = ("province", "city", "new_area", "district", "county_city", "zone", "township")
UNIT_KINDS = ("government", "department", "procuratorate", "office", "other")
POSITIONS = ("组长", "常务副组长", "副组长", "成员")


class TaskForce(Model):
    """专班本身。"""

    code: Name = Field(description="专班代码，在一个部署中唯一")
    name: str = Field(min_length=1, description="专班全称")
    short_name: str = Field(min_length=1, description="简称")
    doc_prefix: str = Field(min_length=1, description="发文机关代字，如 两湖专班办")
    office_hosts: list[str] = Field(min_length=1, description="承担专班办公室的单位代码")


class OrgRole(Model):
    """账号可持有的组织角色。"""

    code: Name = Field(description="角色代码")
    title: str = Field("", description="角色名称（中文）")


class Jurisdiction(Model):
    """一个行政区域（树：children 为下级）。"""

    code: str = Field(min_length=1, description="区域代码，在一个部署中唯一")
    name: str = Field(min_length=1, description="区域名称")
    level: Literal[LEVELS] = Field(description="层级：省、市、新区、区、县（市）、园区、乡镇街道")
    children: list[Jurisdiction] | None = Field(None, description="下级区域")


class Unit(Model):
    """一个单位。"""

    code: str = Field(min_length=1, description="单位代码，在一个部署中唯一（以专班的简码为前缀）")
    name: str = Field(min_length=1, description="单位全称")
    short_name: str = Field("", description="简称")
    kind: Literal[UNIT_KINDS] = Field(description="类型：政府、部门、检察院、办公室、其他")
    jurisdiction: str = Field(min_length=1, description="所在区域的代码")
    member: bool = Field(True, description="是否专班成员单位（检察院、观察单位为 false）")
    duties: str = Field("", description="该单位的职责（原文）")


class Position(Model):
    """专班组成（成员名单）的一行。"""

    position: Literal[POSITIONS] = Field(description="职务")
    unit: str = Field(description="单位代码")
    holder: str = Field("", description="担任者（职务名称）")


class Organisation(Model):
    """专班、角色、区域、单位和组成。"""

    task_force: TaskForce = Field(description="专班：代码、名称、发文机关代字、办公室")
    roles: list[OrgRole] = Field(description="账号可持有的角色（计时器新建案件时须有 system）")
    jurisdictions: list[Jurisdiction] = Field(description="行政区域树")
    units: list[Unit] = Field(description="单位")
    positions: list[Position] = Field(description="专班组成")
