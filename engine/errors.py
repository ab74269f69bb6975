"""Typed domain errors; the API maps each to one HTTP status and a bilingual body."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


class EngineError(Exception):
    """Base of every refusal the engine makes; nothing is written when one is raised."""

    code = "engine_error"
    message_zh = "操作失败"

    def __init__(self, message: str, **details) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(EngineError):
    code = "not_found"
    message_zh = "未找到"


class NotAllowed(EngineError):
    """The event cannot be fired from the case's current state."""

    code = "event_not_allowed"
    message_zh = "当前状态下不允许该操作"

    def __init__(self, event: str, state: str, allowed: Sequence[str], message: str | None = None) -> None:
        allowed = list(allowed)
        super().__init__(
            message
            or f"event {event!r} is not allowed in state {state!r}; allowed: {', '.join(allowed) or 'none'}",
            event=event,
            state=state,
            allowed=allowed,
        )
        self.event, self.state, self.allowed = event, state, allowed


class RoleNotHeld(NotAllowed):
    """The event exists from this state, but this actor holds none of the roles that may fire it."""

    code = "role_not_held"
    message_zh = "您没有执行该操作的角色"

    def __init__(self, event: str, state: str, allowed: Sequence[str], needed: Sequence[str]) -> None:
        super().__init__(
            event,
            state,
            allowed,
            f"event {event!r} needs one of the roles {', '.join(needed)}; "
            f"this actor may fire: {', '.join(allowed) or 'none'}",
        )
        self.details["needed_roles"] = list(needed)


class GuardFailed(EngineError):
    code = "guard_failed"
    message_zh = "前置条件不满足"

    def __init__(self, guard: str, reason: str) -> None:
        super().__init__(f"guard {guard!r} failed: {reason}", guard=guard, reason=reason)
        self.guard, self.reason = guard, reason


class BadPayload(EngineError):
    code = "bad_payload"
    message_zh = "填写内容有误"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"field {field!r}: {reason}", field=field, reason=reason)
        self.field, self.reason = field, reason


class UnitNotAllowed(BadPayload):
    """A unit named in a field may not take that party role here (its kind, jurisdiction, task force;
    the role is set only by the actor's own unit, or only through other events): see engine/naming.py."""

    code = "unit_not_allowed"
    message_zh = "所选单位不能担任该角色"

    def __init__(self, field: str, units: list[str], rule: str, reason: str, reason_zh: str,
                 role: str | None = None) -> None:
        super().__init__(field, reason)
        self.details.update(units=list(units), rule=rule, reason_zh=reason_zh)
        if role is not None:
            self.details["role"] = role
        self.units, self.rule, self.reason_zh = list(units), rule, reason_zh


class OwnerMissing(BadPayload):
    """A deadline would run with nobody to owe it: its owner party role holds no unit on the case.

    Work that belongs to no one would sit on nobody's 我的待办 and climb nobody's ladder."""

    code = "deadline_owner_missing"
    message_zh = "期限无人承担"

    def __init__(self, role: str, role_title: str, deadline: str, deadline_title: str) -> None:
        super().__init__(f"parties.{role}", f"deadline {deadline!r} is owed by the party role {role!r}, "
                                            "which holds no unit on this case")
        self.reason_zh = (f"期限“{deadline_title}”由{role_title}承担，但本案件未指定{role_title}，"
                          f"请先指定{role_title}")
        self.details.update(role=role, deadline=deadline, reason_zh=self.reason_zh)


class StaleVersion(EngineError):
    code = "stale_version"
    message_zh = "案件已被他人更新，请刷新后重试"

    def __init__(self, case_id: int, seen: int | None, current: int, state: str) -> None:
        super().__init__(
            f"case {case_id} is at version {current} (state {state!r}), not {seen}",
            case_id=case_id,
            seen_version=seen,
            current_version=current,
            state=state,
        )
        self.current_version, self.state = current, state


class DefinitionError(EngineError):
    """A workflow definition (or organisation file) is invalid; says where and what."""

    code = "definition_invalid"
    message_zh = "流程定义无效"

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}", source=source, line=line, problem=problem)
        self.source, self.line, self.problem = source, line, problem


class ClockBehind(EngineError):
    """The clock reads earlier than the case's last history row: writing would make time run backwards."""

    code = "clock_behind"
    message_zh = "系统时钟早于案件的最后一条记录，已拒绝写入"

    def __init__(self, case_id: int, now: datetime, last: datetime) -> None:
        super().__init__(f"case {case_id}: the clock reads {now.isoformat()}, earlier than its last history row "
                         f"at {last.isoformat()}; a history never runs backwards",
                         case_id=case_id, now=now.isoformat(), last_row_at=last.isoformat())


class ClockConflict(EngineError):
    """This database runs on another clock (real or simulated) than the one asked for."""

    code = "clock_conflict"
    message_zh = "数据库所用的时钟与本次运行不一致"

    def __init__(self, message: str, message_zh: str, **details) -> None:
        super().__init__(message, **details)
        self.message_zh = message_zh


class UnitWorkRefused(EngineError):
    """分办、委托、抄送 refused; each refusal says why in Chinese and English (`message_zh` per instance)."""

    code = "unit_work_refused"

    def __init__(self, message: str, message_zh: str, **details) -> None:
        super().__init__(message, **details)
        self.message_zh = message_zh


class NotAssignee(UnitWorkRefused):
    """The case is assigned, inside the actor's unit, to a colleague the actor does not stand in for."""

    code = "assigned_to_another"


class NotActingUnit(UnitWorkRefused):
    """Only an account of a unit acting on the case (or the office, for sharing) may do this."""

    code = "not_acting_unit"


class BadAssignee(UnitWorkRefused):
    """The person or unit chosen cannot take the case (outside the unit, inactive, already on it) or bad dates."""

    code = "bad_assignee"


class WorkConflict(UnitWorkRefused):
    """The case's assignment is not what the request assumed (already assigned, closed)."""

    code = "work_conflict"


class DuplicateCase(EngineError):
    """A case with the same key (figures.yaml `unique`) already exists: nothing would be counted twice."""

    code = "duplicate_case"
    message_zh = "已有相同的案件，不能重复创建"

    def __init__(self, workflow: str, parts: list[str], values: list, existing: str) -> None:
        shown = "，".join(f"{p}={v}" for p, v in zip(parts, values, strict=False))
        super().__init__(f"a {workflow} case with the same {', '.join(parts)} already exists: {existing}",
                         workflow=workflow, key=parts, values=values, existing=existing,
                         reason_zh=f"已有案件 {existing}（{shown}），不能重复创建")
        self.existing = existing
