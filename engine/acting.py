"""Who in a unit acts on a case: once a party unit has put a 承办人 on a case (分办), that unit's party
roles on it are exercised by the 承办人 — or by whoever the 承办人 has delegated to (委托) for the local
day it is. Other accounts of the unit still read the case and may reassign it; they do not fire its
events for the unit until it is theirs. Organisation roles are never withheld."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection

from db.repositories import assignments as assign_repo
from db.repositories import delegations as delegations_repo
from db.repositories.assignments import Assignee
from db.repositories.delegations import DelegationRow
from engine.actors import Actor
from engine.context import FireContext

# Reserved keys of an event's history row (a field name cannot start with "_"): the person who acted
# and the 承办人 it acted for. The row is hashed, so replay and verify cover both.
ACTOR_NAME = "_actor_name"
ON_BEHALF_OF = "_on_behalf_of"


def user_id_of(viewer_id: str) -> int | None:
    """The user account behind a viewer id ("user:12"); None for API keys and the clock."""
    kind, _, number = viewer_id.partition(":")
    return int(number) if kind == "user" and number.isdigit() else None


@dataclass(frozen=True)
class Acting:
    actor: Actor
    on_behalf_of: Assignee | None = None  # acting as the 承办人's delegate
    blocked_by: Assignee | None = None  # the unit's share is a colleague's
    ended: DelegationRow | None = None  # the delegation from blocked_by that no longer holds today

    def note(self) -> dict:
        """What the event's history row adds when a delegate acts."""
        if self.on_behalf_of is None:
            return {}
        return {ACTOR_NAME: self.actor.name,
                ON_BEHALF_OF: {"id": f"user:{self.on_behalf_of.user_id}", "name": self.on_behalf_of.name}}

    def refusal_zh(self) -> str:
        name = self.blocked_by.name if self.blocked_by else ""
        if self.ended is not None:
            when = self.ended.ends_on if self.ended.cancelled_at is None else None
            until = f"已于{when.year}年{when.month}月{when.day}日结束" if when else "已取消"
            return f"{name}对您的委托{until}，您不能再代其办理；此事项已分办给{name}"
        return f"此事项已在本单位分办给{name}办理；如需接手，请先改派"

    def refusal_en(self) -> str:
        who = f"user:{self.blocked_by.user_id}" if self.blocked_by else ""
        if self.ended is not None:
            return f"the delegation from {who} is no longer in force; the case is assigned to {who}"
        return f"the case is assigned within your unit to {who}; reassign it before acting"


def acting_on(conn: Connection, actor: Actor, case_id: int, parties: dict[str, list[str]], now: datetime) -> Acting:
    unit = actor.unit
    if unit is None or not any(unit in units for units in parties.values()):
        return Acting(actor)
    assigned = assign_repo.assignee(conn, case_id, unit)
    me = user_id_of(actor.id)
    if assigned is None or assigned.user_id == me:
        return Acting(actor)
    today = FireContext.local_date(now)
    if me is not None:
        if any(d.delegator_id == assigned.user_id for d in delegations_repo.active_for_delegate(conn, me, today)):
            return Acting(actor, on_behalf_of=assigned)
        latest = delegations_repo.latest_between(conn, assigned.user_id, me)
        over = latest is not None and (latest.cancelled_at is not None or latest.ends_on < today)
        return Acting(replace(actor, party_roles=False), blocked_by=assigned, ended=latest if over else None)
    return Acting(replace(actor, party_roles=False), blocked_by=assigned)
