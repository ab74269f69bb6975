"""Every SQL statement about delegations (委托): who stands in for whom, between which local days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, insert, or_, select, update

from db.models import Delegation, User

delegations = Delegation.__table__
users = User.__table__


@dataclass(frozen=True, slots=True)
class DelegationRow:
    id: int
    delegator_id: int
    delegator_name: str
    delegate_id: int
    delegate_name: str
    starts_on: date
    ends_on: date
    created_at: datetime
    cancelled_at: datetime | None

    def active_on(self, day: date) -> bool:
        return self.cancelled_at is None and self.starts_on <= day <= self.ends_on


_FROM_USERS = users.alias("delegator_user")
_TO_USERS = users.alias("delegate_user")
_SELECT = (select(delegations.c.id, delegations.c.delegator_id, _FROM_USERS.c.display_name, delegations.c.delegate_id,
                  _TO_USERS.c.display_name, delegations.c.starts_on, delegations.c.ends_on, delegations.c.created_at,
                  delegations.c.cancelled_at)
           .join(_FROM_USERS, _FROM_USERS.c.id == delegations.c.delegator_id)
           .join(_TO_USERS, _TO_USERS.c.id == delegations.c.delegate_id))


def of_user(conn: Connection, user_id: int) -> list[DelegationRow]:
    """Delegations the user gave or received, newest first."""
    stmt = _SELECT.where(or_(delegations.c.delegator_id == user_id, delegations.c.delegate_id == user_id)) \
        .order_by(delegations.c.id.desc())
    return [DelegationRow(*r) for r in conn.execute(stmt)]


def get(conn: Connection, delegation_id: int) -> DelegationRow | None:
    row = conn.execute(_SELECT.where(delegations.c.id == delegation_id)).first()
    return DelegationRow(*row) if row else None


def active_for_delegate(conn: Connection, delegate_id: int, day: date) -> list[DelegationRow]:
    """The delegations `delegate_id` holds on local day `day` (not cancelled, the day inside their dates)."""
    stmt = _SELECT.where(delegations.c.delegate_id == delegate_id, delegations.c.cancelled_at.is_(None),
                         delegations.c.starts_on <= day, delegations.c.ends_on >= day)
    return [DelegationRow(*r) for r in conn.execute(stmt)]


def latest_between(conn: Connection, delegator_id: int, delegate_id: int) -> DelegationRow | None:
    stmt = _SELECT.where(delegations.c.delegator_id == delegator_id, delegations.c.delegate_id == delegate_id) \
        .order_by(delegations.c.id.desc()).limit(1)
    row = conn.execute(stmt).first()
    return DelegationRow(*row) if row else None


def insert_delegation(conn: Connection, *, delegator_id: int, delegate_id: int, starts_on: date, ends_on: date,
                      at: datetime) -> int:
    return conn.execute(insert(delegations).returning(delegations.c.id), {
        "delegator_id": delegator_id, "delegate_id": delegate_id, "starts_on": starts_on, "ends_on": ends_on,
        "created_at": at, "cancelled_at": None}).scalar_one()


def cancel_open(conn: Connection, delegator_id: int, today: date, at: datetime) -> int:
    """Cancel the delegator's delegations that have not ended by `today`; how many."""
    return conn.execute(update(delegations).where(
        delegations.c.delegator_id == delegator_id, delegations.c.cancelled_at.is_(None),
        delegations.c.ends_on >= today).values(cancelled_at=at)).rowcount


def cancel(conn: Connection, delegation_id: int, at: datetime) -> bool:
    return conn.execute(update(delegations).where(delegations.c.id == delegation_id,
                                                  delegations.c.cancelled_at.is_(None))
                        .values(cancelled_at=at)).rowcount == 1
