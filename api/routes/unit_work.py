"""分办 / 认领 / 改派 and 抄送 on a case; 委托 and colleagues under /me. Same access rules as the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import AccessDep, CurrentViewer, ServicesDep
from api.schemas.common import errors
from api.schemas.unit_work import (
    AssignmentWrite,
    CaseWorkRead,
    ClaimWrite,
    Colleague,
    DelegationRead,
    DelegationWrite,
    SharesWrite,
)
from db.repositories import accounts as accounts_repo
from engine import delegation
from engine.access import CaseAccess
from engine.assignment import UnitWork, case_work

router = APIRouter(tags=["unit work"])
CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DelegationId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _work(conn, access: CaseAccess, case_id: int) -> CaseWorkRead:
    case = access.load(conn, case_id)
    return CaseWorkRead.of(case.id, case.version, case_work(conn, case.id))


@router.get("/cases/{case_id}/work", response_model=CaseWorkRead, responses=errors(401, 404, 422),
            summary="承办人、抄送与已阅 / who handles the case in each unit, who it is shared with, who read it")
def get_work(case_id: CaseId, access: AccessDep, services: ServicesDep) -> CaseWorkRead:
    with services.db.read() as conn:
        return _work(conn, access, case_id)


@router.post("/cases/{case_id}/assignment", response_model=CaseWorkRead, responses=errors(401, 403, 404, 409, 422),
             summary="分办或改派给本单位承办人 / assign (or reassign) my unit's part of the case to a colleague")
def assign(case_id: CaseId, body: AssignmentWrite, access: AccessDep, services: ServicesDep) -> CaseWorkRead:
    with services.db.write() as conn:
        UnitWork(access).assign(conn, case_id, body.assignee_id, expected_version=body.version)
        return _work(conn, access, case_id)


@router.post("/cases/{case_id}/claim", response_model=CaseWorkRead, responses=errors(401, 403, 404, 409, 422),
             summary="认领本单位未分办的事项 / claim an unassigned case of my unit")
def claim(case_id: CaseId, body: ClaimWrite, access: AccessDep, services: ServicesDep) -> CaseWorkRead:
    with services.db.write() as conn:
        UnitWork(access).claim(conn, case_id, expected_version=body.version)
        return _work(conn, access, case_id)


@router.post("/cases/{case_id}/shares", response_model=CaseWorkRead, responses=errors(401, 403, 404, 409, 422),
             summary="抄送其他单位阅知 / share the case with other units for reading")
def share(case_id: CaseId, body: SharesWrite, access: AccessDep, services: ServicesDep) -> CaseWorkRead:
    with services.db.write() as conn:
        UnitWork(access).share(conn, case_id, body.units)
        return _work(conn, access, case_id)


@router.get("/me/colleagues", response_model=list[Colleague], responses=errors(401),
            summary="本单位的在用账号 / the active accounts of my unit (承办人 and 受托人 are chosen among them)")
def colleagues(viewer: CurrentViewer, services: ServicesDep) -> list[Colleague]:
    with services.db.read() as conn:
        people = accounts_repo.people_of_unit(conn, viewer.unit, viewer.task_force) if viewer.unit else []
    return [Colleague(user_id=p.id, username=p.username, name=p.display_name) for p in people]


@router.get("/me/delegations", response_model=list[DelegationRead], responses=errors(401, 403),
            summary="我设置和受托的委托 / the delegations I gave or hold")
def my_delegations(viewer: CurrentViewer, services: ServicesDep) -> list[DelegationRead]:
    today = delegation.today(services.clock)
    with services.db.read() as conn:
        return [DelegationRead.of(d, today) for d in delegation.delegations_of(conn, viewer)]


@router.post("/me/delegations", status_code=201, response_model=DelegationRead, responses=errors(401, 403, 422),
             summary="委托本单位同事在指定日期内代为办理 / name a colleague who acts for me between two local days")
def delegate(body: DelegationWrite, viewer: CurrentViewer, services: ServicesDep) -> DelegationRead:
    with services.db.write() as conn:
        row = delegation.delegate(conn, viewer, services.clock, body.delegate_id, body.starts_on, body.ends_on)
    return DelegationRead.of(row, delegation.today(services.clock))


@router.delete("/me/delegations/{delegation_id}", response_model=DelegationRead, responses=errors(401, 403, 404, 422),
               summary="取消委托 / cancel a delegation I gave or hold")
def cancel_delegation(delegation_id: DelegationId, viewer: CurrentViewer, services: ServicesDep) -> DelegationRead:
    with services.db.write() as conn:
        row = delegation.cancel(conn, viewer, services.clock, delegation_id)
    return DelegationRead.of(row, delegation.today(services.clock))
