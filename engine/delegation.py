"""委托: an account names a colleague of its unit who acts for it between two local (Beijing) days,
both inclusive. While in force the delegate sees the delegator's assigned work in 我的待办 and fires its
events (the history row names both, engine/acting.py); before the first day and after the last it is
refused. A new delegation replaces the delegator's ones not yet over; either may be cancelled."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection

from db.repositories import accounts as accounts_repo
from db.repositories import delegations as repo
from db.repositories.delegations import DelegationRow
from engine.access import Viewer
from engine.acting import user_id_of
from engine.clock import Clock
from engine.context import FireContext
from engine.errors import BadAssignee, NotActingUnit, NotFound

LONGEST = timedelta(days=366)


def _me(viewer: Viewer) -> int:
    me = user_id_of(viewer.id)
    if me is None:
        raise NotActingUnit("only a person's account may delegate", "只有个人账号可以设置委托")
    return me


def today(clock: Clock) -> date:
    return FireContext.local_date(clock.now())


def delegations_of(conn: Connection, viewer: Viewer) -> list[DelegationRow]:
    return repo.of_user(conn, _me(viewer))


def delegate(conn: Connection, viewer: Viewer, clock: Clock, delegate_id: int, starts_on: date,
             ends_on: date) -> DelegationRow:
    me = _me(viewer)
    person = accounts_repo.person(conn, delegate_id)
    if person is None or person.id == me or person.unit_code != viewer.unit \
            or person.task_force_code != viewer.task_force:
        raise BadAssignee(f"user {delegate_id} is not another active account of unit {viewer.unit}",
                          "受托人须为本单位的其他在用账号", field="delegate_id", delegate_id=delegate_id)
    now = clock.now()
    day = FireContext.local_date(now)
    if ends_on < starts_on:
        raise BadAssignee("ends_on is before starts_on", "结束日期不能早于开始日期", field="ends_on")
    if ends_on < day:
        raise BadAssignee("ends_on is in the past", "结束日期不能早于今天", field="ends_on")
    if ends_on - starts_on > LONGEST:
        raise BadAssignee("a delegation lasts at most a year", "委托期限最长一年", field="ends_on")
    repo.cancel_open(conn, me, day, now)
    new_id = repo.insert_delegation(conn, delegator_id=me, delegate_id=person.id, starts_on=starts_on,
                                    ends_on=ends_on, at=now)
    return repo.get(conn, new_id)


def cancel(conn: Connection, viewer: Viewer, clock: Clock, delegation_id: int) -> DelegationRow:
    """Cancel a delegation I gave or received (the delegate may hand it back)."""
    me = _me(viewer)
    found = repo.get(conn, delegation_id)
    if found is None or me not in (found.delegator_id, found.delegate_id):
        raise NotFound(f"delegation {delegation_id} not found", delegation_id=delegation_id)
    repo.cancel(conn, delegation_id, clock.now())
    return repo.get(conn, delegation_id)


def delegators_for(conn: Connection, viewer: Viewer, clock: Clock) -> dict[int, str]:
    """user id -> name of everyone I stand in for today."""
    me = user_id_of(viewer.id)
    if me is None:
        return {}
    return {d.delegator_id: d.delegator_name for d in repo.active_for_delegate(conn, me, today(clock))}
