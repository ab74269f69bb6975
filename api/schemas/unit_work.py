"""分办 / 委托 / 抄送: requests and answers."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from api.schemas.common import Code, Id, Strict
from db.repositories.delegations import DelegationRow
from engine.assignment import CaseWork

Version = Field(None, ge=1, le=2**31 - 1, description="the case version you saw; a stale one is refused with 409")


class AssignmentWrite(Strict):
    assignee_id: Id = Field(description="承办人：本单位一个在用账号的编号 / an active account of my unit (GET /me/colleagues)")
    version: int | None = Version


class ClaimWrite(Strict):
    version: int | None = Version


class SharesWrite(Strict):
    units: list[Code] = Field(min_length=1, max_length=50, description="抄送单位 / units of the task force to share with")


class AssigneeRead(BaseModel):
    unit: str
    user_id: int
    name: str
    assigned_at: datetime


class ShareRead(BaseModel):
    unit: str
    shared_by: str
    shared_at: datetime


class ReceiptRead(BaseModel):
    reader_id: str
    reader_name: str
    unit: str
    read_at: datetime


class CaseWorkRead(BaseModel):
    """Who handles the case in each party unit, which units read it, who of them has opened it."""

    case_id: int
    version: int
    assignees: list[AssigneeRead]
    shares: list[ShareRead]
    receipts: list[ReceiptRead]

    @classmethod
    def of(cls, case_id: int, version: int, work: CaseWork) -> CaseWorkRead:
        return cls(case_id=case_id, version=version,
                   assignees=[AssigneeRead(unit=a.unit, user_id=a.user_id, name=a.name, assigned_at=a.assigned_at)
                              for a in work.assignees],
                   shares=[ShareRead(unit=u, shared_by=by, shared_at=at) for u, by, at in work.shares],
                   receipts=[ReceiptRead(reader_id=r, reader_name=n, unit=u, read_at=at)
                             for r, n, u, at in work.receipts])


class Colleague(BaseModel):
    user_id: int
    username: str
    name: str


class DelegationWrite(Strict):
    delegate_id: Id = Field(description="受托人：本单位另一个在用账号 / another active account of my unit")
    starts_on: date = Field(description="起始日（北京时间，含当日）/ first local day, inclusive")
    ends_on: date = Field(description="结束日（北京时间，含当日）/ last local day, inclusive")


class DelegationRead(BaseModel):
    id: int
    delegator_id: int
    delegator_name: str
    delegate_id: int
    delegate_name: str
    starts_on: date
    ends_on: date
    created_at: datetime
    cancelled_at: datetime | None
    active: bool

    @classmethod
    def of(cls, row: DelegationRow, today: date) -> DelegationRead:
        return cls(id=row.id, delegator_id=row.delegator_id, delegator_name=row.delegator_name,
                   delegate_id=row.delegate_id, delegate_name=row.delegate_name, starts_on=row.starts_on,
                   ends_on=row.ends_on, created_at=row.created_at, cancelled_at=row.cancelled_at,
                   active=row.active_on(today))
